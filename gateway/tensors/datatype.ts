/**
 * The protocol's tensor datatypes, their element sizes, and the mapping to the names of Triton's
 * model-configuration enum (`TYPE_FP32`, ..., `TYPE_STRING` for BYTES).
 */

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

export type ElementSize = 1 | 2 | 4 | 8;

/**
 * Datatypes of the outputs Triton's `classification` parameter can rank (server/src/classification.cc);
 * it refuses the others (BYTES it divides by a zero element size: Triton 2.51 crashes).
 */
const CLASSIFIABLE_DATATYPES: ReadonlySet<Datatype> = new Set<Datatype>(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);

/** What is wrong with a `classification` count for an output of `datatype`: the count, the datatype, or nothing. */
export function classificationProblem(count: unknown, datatype: Datatype): 'count' | 'datatype' | undefined {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return 'count';
  return CLASSIFIABLE_DATATYPES.has(datatype) ? undefined : 'datatype';
}

/** Bytes of the little-endian unsigned length that precedes each BYTES element. */
export const BYTES_LENGTH_PREFIX_SIZE = 4;

const ELEMENT_SIZES: Readonly<Record<FixedSizeDatatype, ElementSize>> = Object.freeze({
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  BF16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
});

const DATATYPE_SET: ReadonlySet<string> = new Set<string>(DATATYPES);

export function isDatatype(s: string): s is Datatype {
  return DATATYPE_SET.has(s);
}

export function isFixedSize(datatype: Datatype): datatype is FixedSizeDatatype {
  return datatype !== 'BYTES';
}

/** Bytes per element; undefined for BYTES, whose elements have variable length. */
export function elementSize(datatype: FixedSizeDatatype): ElementSize;
export function elementSize(datatype: Datatype): ElementSize | undefined;
export function elementSize(datatype: Datatype): ElementSize | undefined {
  return datatype === 'BYTES' ? undefined : ELEMENT_SIZES[datatype];
}

// Triton's model_config.proto enum DataType, in enum-value order (TYPE_INVALID = 0 has no datatype).
export const CONFIG_TYPE_NAMES = [
  'TYPE_BOOL',
  'TYPE_UINT8',
  'TYPE_UINT16',
  'TYPE_UINT32',
  'TYPE_UINT64',
  'TYPE_INT8',
  'TYPE_INT16',
  'TYPE_INT32',
  'TYPE_INT64',
  'TYPE_FP16',
  'TYPE_FP32',
  'TYPE_FP64',
  'TYPE_STRING',
  'TYPE_BF16',
] as const;

export type ConfigTypeName = (typeof CONFIG_TYPE_NAMES)[number];

const CONFIG_NAME_OF: Readonly<Record<Datatype, ConfigTypeName>> = Object.freeze({
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BF16: 'TYPE_BF16',
  BYTES: 'TYPE_STRING',
});

const DATATYPE_OF_CONFIG_NAME: ReadonlyMap<string, Datatype> = new Map(
  DATATYPES.map((dt) => [CONFIG_NAME_OF[dt], dt] as const),
);

/** `TYPE_FP32` -> `FP32`, `TYPE_STRING` -> `BYTES`; undefined for `TYPE_INVALID` and unknown names. */
export function datatypeFromConfig(name: string): Datatype | undefined {
  return DATATYPE_OF_CONFIG_NAME.get(name);
}

/**
 * The same mapping from the enum's numeric value, for a config decoded with enums as numbers
 * (TYPE_BOOL = 1 ... TYPE_BF16 = 14); undefined for 0 (TYPE_INVALID) and unknown values.
 */
export function datatypeFromConfigValue(value: number): Datatype | undefined {
  const name = Number.isInteger(value) && value >= 1 ? CONFIG_TYPE_NAMES[value - 1] : undefined;
  return name === undefined ? undefined : DATATYPE_OF_CONFIG_NAME.get(name);
}

/** `FP32` -> `TYPE_FP32`, `BYTES` -> `TYPE_STRING`. */
export function configNameOf(datatype: Datatype): ConfigTypeName {
  return CONFIG_NAME_OF[datatype];
}
