/**
 * What went wrong with a tensor's data or shape. The message never names the tensor: the HTTP layer
 * prefixes it with the input name ("input 'x': element 3: ..."). When one element is at fault,
 * `index` is its flat (row-major) index and the message starts with `element <index>: `.
 */

export type TensorDataErrorReason =
  /** The data holds a different number of elements than the shape asks for. */
  | 'count'
  /** An element has the wrong JSON type (a string for FP32, 1 for BOOL, 1.5 for INT32). */
  | 'type'
  /** An element is outside its datatype's range (300 for UINT8, 1e39 for FP32). */
  | 'range'
  /** An INT64/UINT64 element beyond +-(2^53-1): JSON numbers that large are not exact. */
  | 'unsafe-integer'
  /** `data` is nested deeper than allowed. */
  | 'depth'
  /** Raw bytes whose length does not fit the datatype or the expected element count. */
  | 'length'
  /** Raw BYTES data whose length prefix or element runs past the end. */
  | 'truncated'
  /** A shape with a dimension that is not a non-negative safe integer, or whose product overflows. */
  | 'shape'
  /** A typed array whose kind does not match the datatype. */
  | 'array-type';

export type TensorDataError = {
  readonly reason: TensorDataErrorReason;
  readonly message: string;
  readonly index?: number;
};

export function tensorDataError(reason: TensorDataErrorReason, message: string): TensorDataError {
  return { reason, message };
}

export function elementError(reason: TensorDataErrorReason, index: number, detail: string): TensorDataError {
  return { reason, index, message: `element ${index}: ${detail}` };
}

const MAX_STRING_SHOWN = 40;

/**
 * How an offending JSON value is shown in a message: its JSON type and, for scalars, the value itself
 * (strings shortened), never a whole array or object.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return `number ${value}`;
    case 'boolean':
      return `boolean ${value}`;
    case 'string':
      return value.length > MAX_STRING_SHOWN
        ? `string ${JSON.stringify(value.slice(0, MAX_STRING_SHOWN))}...`
        : `string ${JSON.stringify(value)}`;
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return typeof value;
  }
}
