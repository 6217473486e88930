/**
 * Raw little-endian tensor bytes (Triton's raw_output_contents) -> the flat array of JSON values of
 * a REST response's `data`.
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { decodeBytesElements } from './bytes-elements.ts';
import { descriptorOf } from './datatype.ts';
import type { Datatype } from './datatype.ts';
import { checkRawLength, countRawElements } from './raw-validation.ts';
import { toTypedArray } from './typed-arrays.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/** What `JSON.rawJSON` returns: JSON.stringify writes `rawJSON` verbatim. */
export type RawJson = { readonly rawJSON: string };

export type JsonTensorValue = boolean | number | string | RawJson;

// JSON.rawJSON is in Node 24 (V8) but not yet in TypeScript's lib.
const jsonWithRaw = JSON as unknown as { rawJSON(text: string): RawJson };

/**
 * Decodes raw bytes to a flat, row-major array: booleans for BOOL (any non-zero byte is true),
 * numbers for numeric types (FP16/BF16/FP32 widened exactly; NaN and infinities stay numbers, which
 * JSON.stringify writes as null), strings for BYTES (UTF-8, invalid sequences become U+FFFD).
 * INT64/UINT64 values beyond +-(2^53-1) come back as `JSON.rawJSON` values so that JSON.stringify
 * prints the exact integer.
 * Fails when the byte length does not fit the datatype, or `expectedCount` when given.
 */
export function decodeRawData(
  datatype: Datatype,
  bytes: Uint8Array,
  expectedCount?: number,
): Result<JsonTensorValue[], TensorDataError> {
  if (datatype === 'BYTES') {
    const strings = decodeBytesElements(bytes);
    if (!strings.ok) return strings;
    if (expectedCount !== undefined && strings.value.length !== expectedCount) {
      return err(tensorDataError('count', `expected ${expectedCount} elements, got ${strings.value.length}`));
    }
    return strings;
  }
  let count: number;
  if (expectedCount === undefined) {
    const counted = countRawElements(datatype, bytes);
    if (!counted.ok) return counted;
    count = counted.value;
  } else {
    const checked = checkRawLength(datatype, bytes, expectedCount);
    if (!checked.ok) return checked;
    count = expectedCount;
  }
  // Validated above: the view cannot fail.
  const array = toTypedArray(datatype, bytes);
  if (!array.ok) return array;
  const descriptor = descriptorOf(datatype);
  const out = new Array<JsonTensorValue>(count);
  if (descriptor.kind === 'integer' && descriptor.size === 8) {
    // From two 32-bit words, not a BigInt each: exact within +-(2^53-1); beyond, the rounded sum is not
    // "safe" (rounding is monotonic) and the exact bigint is written as raw JSON.
    const exact = array.value as BigInt64Array | BigUint64Array;
    const words = new Uint32Array(exact.buffer, exact.byteOffset, 2 * count);
    const signed = descriptor.range.min < 0;
    for (let i = 0; i < count; i++) {
      const high = words[2 * i + 1] as number;
      const value = (signed ? high | 0 : high) * TWO_TO_32 + (words[2 * i] as number);
      out[i] = Number.isSafeInteger(value) ? value : jsonWithRaw.rawJSON(String(exact[i]));
    }
  } else if (descriptor.kind === 'float' && descriptor.bits !== undefined) {
    const { toNumber } = descriptor.bits;
    const patterns = array.value as Uint16Array;
    for (let i = 0; i < count; i++) out[i] = toNumber(patterns[i] as number);
  } else if (descriptor.kind === 'boolean') {
    const flags = array.value as Uint8Array;
    for (let i = 0; i < count; i++) out[i] = flags[i] !== 0;
  } else {
    // Widened into a Float64Array by the platform (exact; one loop per datatype inside the engine), so that
    // this loop reads one kind of array: reading typed arrays of several kinds from one loop is slower.
    const doubles = array.value instanceof Float64Array ? array.value : new Float64Array(count);
    if (doubles !== array.value) doubles.set(array.value as ArrayLike<number>);
    for (let i = 0; i < count; i++) out[i] = doubles[i] as number;
  }
  return ok(out);
}

const TWO_TO_32 = 2 ** 32;
