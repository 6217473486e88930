/**
 * The protocol's tensor datatypes, and one table of what the gateway knows about each: the element
 * size, the typed array that views its little-endian bytes, an integer type's range, a float type's
 * largest value (and BF16's conversion to and from bit patterns, which the platform lacks), its
 * member of Triton's model-configuration enum (`TYPE_FP32`, ..., `TYPE_STRING` for BYTES), its ONNX
 * Runtime element type, and whether Triton can classify it. The codecs, the validators and the
 * embedded backend read this table; none keeps a switch of its own.
 */

import { endianness } from 'node:os';
import { BF16_MAX, bf16BitsToNumber, numberToBf16Bits } from './bfloat16.ts';

export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** Every datatype except BYTES, whose elements have variable length. */
export type FixedSizeDatatype = Exclude<Datatype, 'BYTES'>;

type IntegerDatatype = 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64';

type FloatDatatype = 'FP16' | 'FP32' | 'FP64' | 'BF16';

export type ElementSize = 1 | 2 | 4 | 8;

/**
 * The array each datatype's elements live in within the process: FP16 in the platform's
 * Float16Array, BF16 (which has none) as its 16-bit patterns, BYTES as strings.
 */
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
  FP16: Float16Array;
  FP32: Float32Array;
  FP64: Float64Array;
  BF16: Uint16Array;
  BYTES: string[];
};

export type TensorArray = TensorArrayMap[Datatype];

/** ONNX Runtime's names (onnxruntime-common `Tensor.Type`) of the element types the protocol has. */
type OrtElementType =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string';

/** The names of model_config.proto's enum DataType (TYPE_INVALID has no datatype); a unit test holds them to the .proto. */
export type ConfigTypeName =
  | 'TYPE_BOOL'
  | 'TYPE_UINT8'
  | 'TYPE_UINT16'
  | 'TYPE_UINT32'
  | 'TYPE_UINT64'
  | 'TYPE_INT8'
  | 'TYPE_INT16'
  | 'TYPE_INT32'
  | 'TYPE_INT64'
  | 'TYPE_FP16'
  | 'TYPE_FP32'
  | 'TYPE_FP64'
  | 'TYPE_STRING'
  | 'TYPE_BF16';

/** An integer type's bounds: `min` and `limit` (max + 1) as exact doubles, and `min..max` for messages. */
type IntegerRange = { readonly min: number; readonly limit: number; readonly text: string };

interface Descriptor<D extends Datatype> {
  readonly datatype: D;
  readonly configName: ConfigTypeName;
  /** Undefined where onnxruntime-node has no such element type (BF16). */
  readonly ortType: OrtElementType | undefined;
  /**
   * Whether Triton's `classification` output parameter can rank it (server/src/classification.cc); it
   * refuses the others (BYTES it divides by a zero element size: Triton 2.51 crashes).
   */
  readonly classifiable: boolean;
}

interface FixedSizeDescriptor<D extends FixedSizeDatatype> extends Descriptor<D> {
  readonly size: ElementSize;
  /**
   * Views raw bytes in the host's byte order: little-endian, as checked below. Its elements are the
   * values themselves (the platform's stores round FP16 and FP32 to nearest, ties to even), except
   * BOOL's bytes (0 or 1; any non-zero byte is true), 64-bit integers' bigints and BF16's bit patterns.
   */
  readonly array: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorArrayMap[D];
}

interface BooleanDescriptor extends FixedSizeDescriptor<'BOOL'> {
  readonly kind: 'boolean';
}

interface IntegerDescriptor<D extends IntegerDatatype = IntegerDatatype> extends FixedSizeDescriptor<D> {
  readonly kind: 'integer';
  readonly range: IntegerRange;
}

interface FloatDescriptor<D extends FloatDatatype = FloatDatatype> extends FixedSizeDescriptor<D> {
  readonly kind: 'float';
  /** Largest finite value. */
  readonly max: number;
  /** The magnitude from which a value rounds to infinity: `max` + half an ulp (ties go to the even infinity). */
  readonly overflow: number;
  /** BF16 only, which has no array of its own: number <-> 16-bit pattern, rounding to nearest, ties to even. */
  readonly bits?: { readonly fromNumber: (value: number) => number; readonly toNumber: (bits: number) => number };
}

interface BytesDescriptor extends Descriptor<'BYTES'> {
  readonly kind: 'bytes';
  readonly size: undefined;
}

type DescriptorOf<D extends Datatype> = D extends 'BYTES'
  ? BytesDescriptor
  : D extends 'BOOL'
    ? BooleanDescriptor
    : D extends IntegerDatatype
      ? IntegerDescriptor<D>
      : D extends FloatDatatype
        ? FloatDescriptor<D>
        : never;

export type FixedSizeDatatypeDescriptor = DescriptorOf<FixedSizeDatatype>;

function integerRange(bits: 8 | 16 | 32 | 64, signed: boolean): IntegerRange {
  const min = signed ? -(2n ** BigInt(bits - 1)) : 0n;
  const limit = signed ? 2n ** BigInt(bits - 1) : 2n ** BigInt(bits);
  return { min: Number(min), limit: Number(limit), text: `${min}..${limit - 1n}` };
}

/** Bytes of the little-endian unsigned length that precedes each BYTES element. */
export const BYTES_LENGTH_PREFIX_SIZE = 4;

const TABLE: { readonly [D in Datatype]: DescriptorOf<D> } = {
  BOOL: {
    kind: 'boolean', datatype: 'BOOL', size: 1, array: Uint8Array, configName: 'TYPE_BOOL', ortType: 'bool', classifiable: false,
  },
  UINT8: {
    kind: 'integer', datatype: 'UINT8', size: 1, array: Uint8Array, configName: 'TYPE_UINT8', ortType: 'uint8', classifiable: true,
    range: integerRange(8, false),
  },
  UINT16: {
    kind: 'integer', datatype: 'UINT16', size: 2, array: Uint16Array, configName: 'TYPE_UINT16', ortType: 'uint16', classifiable: true,
    range: integerRange(16, false),
  },
  UINT32: {
    kind: 'integer', datatype: 'UINT32', size: 4, array: Uint32Array, configName: 'TYPE_UINT32', ortType: 'uint32', classifiable: true,
    range: integerRange(32, false),
  },
  UINT64: {
    kind: 'integer', datatype: 'UINT64', size: 8, array: BigUint64Array, configName: 'TYPE_UINT64', ortType: 'uint64', classifiable: true,
    range: integerRange(64, false),
  },
  INT8: {
    kind: 'integer', datatype: 'INT8', size: 1, array: Int8Array, configName: 'TYPE_INT8', ortType: 'int8', classifiable: true,
    range: integerRange(8, true),
  },
  INT16: {
    kind: 'integer', datatype: 'INT16', size: 2, array: Int16Array, configName: 'TYPE_INT16', ortType: 'int16', classifiable: true,
    range: integerRange(16, true),
  },
  INT32: {
    kind: 'integer', datatype: 'INT32', size: 4, array: Int32Array, configName: 'TYPE_INT32', ortType: 'int32', classifiable: true,
    range: integerRange(32, true),
  },
  INT64: {
    kind: 'integer', datatype: 'INT64', size: 8, array: BigInt64Array, configName: 'TYPE_INT64', ortType: 'int64', classifiable: true,
    range: integerRange(64, true),
  },
  FP16: {
    kind: 'float', datatype: 'FP16', size: 2, array: Float16Array, configName: 'TYPE_FP16', ortType: 'float16', classifiable: false,
    max: 65504,
    overflow: 65520,
  },
  FP32: {
    kind: 'float', datatype: 'FP32', size: 4, array: Float32Array, configName: 'TYPE_FP32', ortType: 'float32', classifiable: true,
    max: (2 - 2 ** -23) * 2 ** 127,
    overflow: (2 - 2 ** -24) * 2 ** 127,
  },
  FP64: {
    kind: 'float', datatype: 'FP64', size: 8, array: Float64Array, configName: 'TYPE_FP64', ortType: 'float64', classifiable: true,
    max: Number.MAX_VALUE,
    overflow: Infinity,
  },
  BF16: {
    kind: 'float', datatype: 'BF16', size: 2, array: Uint16Array, configName: 'TYPE_BF16', ortType: undefined, classifiable: false,
    max: BF16_MAX,
    overflow: (2 - 2 ** -8) * 2 ** 127,
    bits: { fromNumber: numberToBf16Bits, toNumber: bf16BitsToNumber },
  },
  BYTES: { kind: 'bytes', datatype: 'BYTES', size: undefined, configName: 'TYPE_STRING', ortType: 'string', classifiable: false },
};

// The typed-array views above read the wire's little-endian bytes in the host's order. Every host the
// gateway runs on (x64, arm64) is little-endian; refuse to start anywhere else rather than misread data.
if (endianness() !== 'LE') throw new Error('the gateway needs a little-endian host: tensors are viewed as little-endian typed arrays');

/** Everything the table knows about one datatype. */
export function descriptorOf<D extends Datatype>(datatype: D): DescriptorOf<D> {
  return TABLE[datatype];
}

const DATATYPE_SET: ReadonlySet<string> = new Set<string>(DATATYPES);

export function isDatatype(s: string): s is Datatype {
  return DATATYPE_SET.has(s);
}

/** Bytes per element; undefined for BYTES, whose elements have variable length. */
export function elementSize(datatype: FixedSizeDatatype): ElementSize;
export function elementSize(datatype: Datatype): ElementSize | undefined;
export function elementSize(datatype: Datatype): ElementSize | undefined {
  return TABLE[datatype].size;
}

/** What is wrong with a `classification` count for an output of `datatype`: the count, the datatype, or nothing. */
export function classificationProblem(count: unknown, datatype: Datatype): 'count' | 'datatype' | undefined {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return 'count';
  return TABLE[datatype].classifiable ? undefined : 'datatype';
}

const DATATYPE_OF_CONFIG_NAME: ReadonlyMap<string, Datatype> = new Map(DATATYPES.map((dt) => [TABLE[dt].configName, dt] as const));

/** `TYPE_FP32` -> `FP32`, `TYPE_STRING` -> `BYTES`; undefined for `TYPE_INVALID` and unknown names. */
export function datatypeFromConfig(name: string): Datatype | undefined {
  return DATATYPE_OF_CONFIG_NAME.get(name);
}
