/**
 * Raw little-endian tensor bytes <-> typed arrays, for in-process backends (ONNX Runtime).
 * FP16 and BF16 travel as their raw 16-bit patterns in a Uint16Array; BYTES as string[].
 */

import { endianness } from 'node:os';
import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { decodeBytesElements, encodeBytesElements } from './bytes-elements.ts';
import { elementSize } from './datatype.ts';
import type { Datatype, FixedSizeDatatype } from './datatype.ts';
import { countRawElements } from './raw-validation.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

export type TensorArrayMap = {
  BOOL: Uint8Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array;
  FP32: Float32Array;
  FP64: Float64Array;
  BF16: Uint16Array;
  BYTES: string[];
};

export type TensorArray = TensorArrayMap[Datatype];

type FixedSizeArray = TensorArrayMap[FixedSizeDatatype];

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * The typed array for raw bytes. On a little-endian host the result is a view that SHARES memory
 * with `bytes` when `bytes.byteOffset` is aligned to the element size, and a copy otherwise; on a
 * big-endian host it is always a byte-swapped copy. Use toTypedArrayCopy to never share.
 * Fails when the byte length is not a whole number of elements (BYTES: on a truncated element).
 */
export function toTypedArray<D extends Datatype>(datatype: D, bytes: Uint8Array): Result<TensorArrayMap[D], TensorDataError> {
  if (!LITTLE_ENDIAN_HOST) return toTypedArrayCopy(datatype, bytes);
  if (datatype === 'BYTES') return decodeBytesElements(bytes) as Result<TensorArrayMap[D], TensorDataError>;
  const counted = countRawElements(datatype, bytes);
  if (!counted.ok) return counted;
  const size = elementSize(datatype as FixedSizeDatatype);
  let source = bytes;
  if (bytes.byteOffset % size !== 0) {
    source = new Uint8Array(bytes.byteLength);
    source.set(bytes);
  }
  return ok(viewAs(datatype as FixedSizeDatatype, source.buffer, source.byteOffset, counted.value) as TensorArrayMap[D]);
}

/** Like toTypedArray but always a fresh array, read through a DataView (correct on any host). */
export function toTypedArrayCopy<D extends Datatype>(
  datatype: D,
  bytes: Uint8Array,
): Result<TensorArrayMap[D], TensorDataError> {
  if (datatype === 'BYTES') return decodeBytesElements(bytes) as Result<TensorArrayMap[D], TensorDataError>;
  const counted = countRawElements(datatype, bytes);
  if (!counted.ok) return counted;
  return ok(readLittleEndian(datatype as FixedSizeDatatype, bytes, counted.value) as TensorArrayMap[D]);
}

/**
 * Little-endian bytes of a typed array whose kind matches the datatype (see TensorArrayMap; a Buffer
 * counts as a Uint8Array). On a little-endian host the result SHARES memory with `array`; use
 * fromTypedArrayCopy to never share. BYTES elements must be strings, written as UTF-8.
 */
export function fromTypedArray(datatype: Datatype, array: TensorArray): Result<Uint8Array, TensorDataError> {
  if (!LITTLE_ENDIAN_HOST) return fromTypedArrayCopy(datatype, array);
  if (datatype === 'BYTES') return Array.isArray(array) ? encodeBytesElements(array) : err(kindError(datatype, array));
  if (!isArrayFor(datatype, array) || Array.isArray(array)) return err(kindError(datatype, array));
  return ok(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
}

/** Like fromTypedArray but always fresh bytes, written through a DataView (correct on any host). */
export function fromTypedArrayCopy(datatype: Datatype, array: TensorArray): Result<Uint8Array, TensorDataError> {
  if (datatype === 'BYTES') return Array.isArray(array) ? encodeBytesElements(array) : err(kindError(datatype, array));
  if (!isArrayFor(datatype, array) || Array.isArray(array)) return err(kindError(datatype, array));
  return ok(writeLittleEndian(datatype, array));
}

const ARRAY_KIND: Readonly<Record<FixedSizeDatatype, string>> = {
  BOOL: 'Uint8Array',
  UINT8: 'Uint8Array',
  UINT16: 'Uint16Array',
  UINT32: 'Uint32Array',
  UINT64: 'BigUint64Array',
  INT8: 'Int8Array',
  INT16: 'Int16Array',
  INT32: 'Int32Array',
  INT64: 'BigInt64Array',
  FP16: 'Uint16Array',
  FP32: 'Float32Array',
  FP64: 'Float64Array',
  BF16: 'Uint16Array',
};

function isArrayFor(datatype: FixedSizeDatatype, array: TensorArray): boolean {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return array instanceof Uint8Array;
    case 'UINT16':
    case 'FP16':
    case 'BF16':
      return array instanceof Uint16Array;
    case 'UINT32':
      return array instanceof Uint32Array;
    case 'UINT64':
      return array instanceof BigUint64Array;
    case 'INT8':
      return array instanceof Int8Array;
    case 'INT16':
      return array instanceof Int16Array;
    case 'INT32':
      return array instanceof Int32Array;
    case 'INT64':
      return array instanceof BigInt64Array;
    case 'FP32':
      return array instanceof Float32Array;
    case 'FP64':
      return array instanceof Float64Array;
    default:
      return unreachable(datatype);
  }
}

function kindError(datatype: Datatype, array: TensorArray): TensorDataError {
  const expected = datatype === 'BYTES' ? 'an array of strings' : `a ${ARRAY_KIND[datatype]}`;
  const got = Array.isArray(array) ? 'an Array' : `a ${array.constructor.name}`;
  return tensorDataError('array-type', `expected ${expected} for ${datatype}, got ${got}`);
}

function viewAs(datatype: FixedSizeDatatype, buffer: ArrayBufferLike, byteOffset: number, count: number): FixedSizeArray {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(buffer, byteOffset, count);
    case 'UINT16':
    case 'FP16':
    case 'BF16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'UINT32':
      return new Uint32Array(buffer, byteOffset, count);
    case 'UINT64':
      return new BigUint64Array(buffer, byteOffset, count);
    case 'INT8':
      return new Int8Array(buffer, byteOffset, count);
    case 'INT16':
      return new Int16Array(buffer, byteOffset, count);
    case 'INT32':
      return new Int32Array(buffer, byteOffset, count);
    case 'INT64':
      return new BigInt64Array(buffer, byteOffset, count);
    case 'FP32':
      return new Float32Array(buffer, byteOffset, count);
    case 'FP64':
      return new Float64Array(buffer, byteOffset, count);
    default:
      return unreachable(datatype);
  }
}

function readLittleEndian(datatype: FixedSizeDatatype, bytes: Uint8Array, count: number): FixedSizeArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return Uint8Array.from({ length: count }, (_, i) => view.getUint8(i));
    case 'INT8':
      return Int8Array.from({ length: count }, (_, i) => view.getInt8(i));
    case 'UINT16':
    case 'FP16':
    case 'BF16':
      return Uint16Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true));
    case 'INT16':
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true));
    case 'UINT32':
      return Uint32Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true));
    case 'INT32':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
    case 'UINT64':
      return BigUint64Array.from({ length: count }, (_, i) => view.getBigUint64(i * 8, true));
    case 'INT64':
      return BigInt64Array.from({ length: count }, (_, i) => view.getBigInt64(i * 8, true));
    case 'FP32':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    case 'FP64':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    default:
      return unreachable(datatype);
  }
}

function writeLittleEndian(datatype: FixedSizeDatatype, array: FixedSizeArray): Uint8Array {
  const size = elementSize(datatype);
  const out = new Uint8Array(array.length * size);
  const view = new DataView(out.buffer);
  if (array instanceof BigInt64Array) {
    array.forEach((value, i) => view.setBigInt64(i * size, value, true));
  } else if (array instanceof BigUint64Array) {
    array.forEach((value, i) => view.setBigUint64(i * size, value, true));
  } else {
    const set = numberSetter(datatype, view);
    for (let i = 0; i < array.length; i++) set(i * size, array[i] ?? 0);
  }
  return out;
}

function numberSetter(datatype: FixedSizeDatatype, view: DataView): (offset: number, value: number) => void {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return (offset, value) => view.setUint8(offset, value);
    case 'INT8':
      return (offset, value) => view.setInt8(offset, value);
    case 'UINT16':
    case 'FP16':
    case 'BF16':
      return (offset, value) => view.setUint16(offset, value, true);
    case 'INT16':
      return (offset, value) => view.setInt16(offset, value, true);
    case 'UINT32':
      return (offset, value) => view.setUint32(offset, value, true);
    case 'INT32':
      return (offset, value) => view.setInt32(offset, value, true);
    case 'FP32':
      return (offset, value) => view.setFloat32(offset, value, true);
    case 'FP64':
      return (offset, value) => view.setFloat64(offset, value, true);
    case 'UINT64':
    case 'INT64':
      throw new Error(`${datatype} arrays hold bigints`);
    default:
      return unreachable(datatype);
  }
}

function unreachable(datatype: never): never {
  throw new Error(`unhandled datatype ${String(datatype)}`);
}
