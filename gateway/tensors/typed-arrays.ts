/**
 * Raw little-endian tensor bytes <-> the typed arrays of the datatype table (FP16 a Float16Array,
 * BF16 its 16-bit patterns in a Uint16Array), for in-process backends (ONNX Runtime) and the raw
 * decoder; BYTES travel as string[].
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { decodeBytesElements, encodeBytesElements } from './bytes-elements.ts';
import { descriptorOf } from './datatype.ts';
import type { Datatype, TensorArray, TensorArrayMap } from './datatype.ts';
import { countRawElements } from './raw-validation.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/**
 * The typed array for raw bytes: a view that SHARES memory with `bytes` when `bytes.byteOffset` is
 * aligned to the element size, an aligned copy otherwise. Fails when the byte length is not a whole
 * number of elements (BYTES: on a truncated element).
 */
export function toTypedArray<D extends Datatype>(datatype: D, bytes: Uint8Array): Result<TensorArrayMap[D], TensorDataError> {
  const descriptor = descriptorOf<Datatype>(datatype);
  if (descriptor.kind === 'bytes') return decodeBytesElements(bytes) as Result<TensorArrayMap[D], TensorDataError>;
  const counted = countRawElements(datatype, bytes);
  if (!counted.ok) return counted;
  let source = bytes;
  if (bytes.byteOffset % descriptor.size !== 0) {
    source = new Uint8Array(bytes.byteLength);
    source.set(bytes);
  }
  return ok(new descriptor.array(source.buffer, source.byteOffset, counted.value) as TensorArrayMap[D]);
}

/**
 * Little-endian bytes of a typed array whose kind matches the datatype (see TensorArrayMap; a Buffer
 * counts as a Uint8Array), SHARING memory with `array`. BYTES elements must be strings, written as UTF-8.
 */
export function fromTypedArray(datatype: Datatype, array: TensorArray): Result<Uint8Array, TensorDataError> {
  const descriptor = descriptorOf(datatype);
  if (descriptor.kind === 'bytes') return Array.isArray(array) ? encodeBytesElements(array) : err(kindError(datatype, 'an array of strings', array));
  if (!(array instanceof descriptor.array)) return err(kindError(datatype, `a ${descriptor.array.name}`, array));
  return ok(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
}

function kindError(datatype: Datatype, expected: string, array: TensorArray): TensorDataError {
  const got = Array.isArray(array) ? 'an Array' : `a ${array.constructor.name}`;
  return tensorDataError('array-type', `expected ${expected} for ${datatype}, got ${got}`);
}
