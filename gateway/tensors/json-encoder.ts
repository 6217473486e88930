/**
 * JSON tensor data (a request's `data`) -> raw little-endian bytes, the form sent to Triton in
 * raw_input_contents. Every element's JSON type and range is checked against the datatype; the first
 * bad element is reported by flat index.
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { encodeBytesElements } from './bytes-elements.ts';
import { descriptorOf } from './datatype.ts';
import type { Datatype, FixedSizeDatatype, FixedSizeDatatypeDescriptor } from './datatype.ts';
import { checkJsonElementCount, flattenJsonData, forEachRun } from './json-flatten.ts';
import { describeValue, elementError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/**
 * Encodes `data` (flat or nested arrays, row-major; a bare scalar counts as one element) into raw
 * bytes. Fails when nesting exceeds `maxDepth` (`[1, 2]` is depth 1), when the element count
 * differs from `expectedCount` (both checked before any element), or on the first element (in
 * row-major order) that does not fit the datatype:
 * - BOOL: true or false only.
 * - integers: integral numbers within the datatype's range; INT64/UINT64 also within +-(2^53-1),
 *   beyond which JSON numbers are not exact (send those as binary data).
 * - FP16, BF16, FP32: finite numbers, rounded to nearest (ties to even); out of range when the
 *   rounding would overflow to infinity (so FP32's printed max 3.4028235e38 is accepted).
 * - FP64: finite numbers.
 * - BYTES: strings, written as UTF-8 with a 4-byte little-endian length before each.
 */
export function encodeJsonData(
  datatype: Datatype,
  data: unknown,
  expectedCount: number,
  maxDepth: number,
): Result<Uint8Array, TensorDataError> {
  if (datatype === 'BYTES') {
    const leaves = flattenJsonData(data, expectedCount, maxDepth);
    return leaves.ok ? encodeBytesElements(leaves.value) : leaves;
  }
  // Count (and depth) first: the output is sized from expectedCount, which must not be trusted
  // before the data is known to hold that many elements.
  const checked = checkJsonElementCount(data, expectedCount, maxDepth);
  if (!checked.ok) return checked;
  return encodeFixedSize(datatype, data, expectedCount);
}

/**
 * Checks every leaf and stores it as a double, then converts the doubles to the datatype's bytes. One
 * loop storing into one kind of array: a loop storing into typed arrays of several kinds (or the
 * platform's TypedArray.set from a JSON array, whose elements the engine may have generalised) gets
 * several times slower once a server has seen a few datatypes.
 */
function encodeFixedSize(datatype: FixedSizeDatatype, data: unknown, count: number): Result<Uint8Array, TensorDataError> {
  const descriptor: FixedSizeDatatypeDescriptor = descriptorOf(datatype);
  const rule = jsonRule(descriptor);
  const doubles = new Float64Array(count);
  const asBoolean = rule.kind === 'boolean';
  let index = 0;
  let failure: TensorDataError | undefined;
  forEachRun(Array.isArray(data) ? data : [data], (run, start, end) => {
    for (let i = start; i < end; i++, index++) {
      const value = run[i];
      if (!fits(rule, value)) {
        failure = elementProblem(descriptor, index, value);
        return true;
      }
      doubles[index] = asBoolean ? (value ? 1 : 0) : (value as number);
    }
    return false;
  });
  return failure === undefined ? ok(bytesOfDoubles(descriptor, doubles)) : err(failure);
}

/** The little-endian bytes of checked values. */
function bytesOfDoubles(descriptor: FixedSizeDatatypeDescriptor, doubles: Float64Array<ArrayBuffer>): Uint8Array {
  if (descriptor.array === Float64Array) return new Uint8Array(doubles.buffer);
  const count = doubles.length;
  const out = new Uint8Array(count * descriptor.size);
  if (descriptor.kind === 'integer' && descriptor.size === 8) {
    // Two 32-bit words per element, not a BigInt each: a Uint32Array store takes the value modulo 2^32,
    // and the floored quotient keeps the sign, so a negative value gets its two's complement words.
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) {
      const value = doubles[i] as number;
      words[2 * i] = value;
      words[2 * i + 1] = Math.floor(value / TWO_TO_32);
    }
  } else if (descriptor.kind === 'float' && descriptor.bits !== undefined) {
    const { fromNumber } = descriptor.bits;
    const patterns = new Uint16Array(out.buffer);
    for (let i = 0; i < count; i++) patterns[i] = fromNumber(doubles[i] as number);
  } else {
    // The platform converts, one loop per datatype inside the engine: FP16 and FP32 rounded to nearest, ties to even.
    (new descriptor.array(out.buffer, 0, count) as Float64Array).set(doubles);
  }
  return out;
}

const TWO_TO_32 = 2 ** 32;

/**
 * What a JSON element must be, taken from the table once per tensor in one shape for every datatype
 * (read per element: descriptors of several shapes would make those reads slow).
 */
type JsonRule = {
  readonly kind: 'boolean' | 'integer' | 'float';
  /** Integers: min and max + 1. Floats: -limit and limit, the magnitude that rounds to infinity. */
  readonly min: number;
  readonly limit: number;
  /** 64-bit integers: only the safe ones, which a JSON number holds exactly. */
  readonly safeOnly: boolean;
};

function jsonRule(descriptor: FixedSizeDatatypeDescriptor): JsonRule {
  switch (descriptor.kind) {
    case 'boolean':
      return { kind: 'boolean', min: 0, limit: 0, safeOnly: false };
    case 'integer':
      return { kind: 'integer', min: descriptor.range.min, limit: descriptor.range.limit, safeOnly: descriptor.size === 8 };
    case 'float':
      return { kind: 'float', min: -descriptor.overflow, limit: descriptor.overflow, safeOnly: false };
  }
}

/** Whether a JSON value is of the datatype's kind and within its range (a float: rounds to a finite value). */
function fits(rule: JsonRule, value: unknown): boolean {
  switch (rule.kind) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return (
        typeof value === 'number' &&
        (rule.safeOnly ? Number.isSafeInteger(value) : Number.isInteger(value)) &&
        value >= rule.min &&
        value < rule.limit
      );
    case 'float':
      // False for NaN and the infinities too.
      return typeof value === 'number' && value > rule.min && value < rule.limit;
  }
}

/** Why element `index` (`value`) was refused; built only on failure. */
function elementProblem(descriptor: FixedSizeDatatypeDescriptor, index: number, value: unknown): TensorDataError {
  const { datatype } = descriptor;
  switch (descriptor.kind) {
    case 'boolean':
      return elementError('type', index, `expected a boolean for ${datatype}, got ${describeValue(value)}`);
    case 'integer': {
      if (typeof value !== 'number') return elementError('type', index, `expected an integer for ${datatype}, got ${describeValue(value)}`);
      if (!Number.isInteger(value)) return elementError('type', index, `expected an integer for ${datatype}, got ${value}`);
      const { min, limit, text } = descriptor.range;
      if (value < min || value >= limit) return elementError('range', index, `${value} is out of range for ${datatype} (${text})`);
      return elementError(
        'unsafe-integer',
        index,
        `${value} is beyond +-${Number.MAX_SAFE_INTEGER}, where JSON numbers stop being exact; send ${datatype} values this large as binary data`,
      );
    }
    case 'float':
      if (typeof value !== 'number') return elementError('type', index, `expected a number for ${datatype}, got ${describeValue(value)}`);
      if (!Number.isFinite(value)) return elementError('type', index, `expected a finite number for ${datatype}, got ${value}`);
      return elementError('range', index, `${value} is out of range for ${datatype} (max +-${descriptor.max})`);
  }
}
