/**
 * JSON tensor data (a request's `data`) -> raw little-endian bytes, the form sent to Triton in
 * raw_input_contents. Every element's JSON type and range is checked against the datatype; the first
 * bad element is reported by flat index.
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { encodeBytesElements } from './bytes-elements.ts';
import { elementSize } from './datatype.ts';
import type { Datatype, FixedSizeDatatype } from './datatype.ts';
import { describeValue } from './describe-value.ts';
import { BF16_MAX, FP16_MAX, isBf16Infinity, isFp16Infinity, numberToBf16Bits, numberToFp16Bits } from './half-float.ts';
import { checkJsonElementCount, flattenJsonData, forEachRun } from './json-flatten.ts';
import { elementError } from './tensor-data-error.ts';
import type { TensorDataError, TensorDataErrorReason } from './tensor-data-error.ts';

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

/** Writes the leaves straight into the output, run by run: no intermediate flat array. */
function encodeFixedSize(datatype: FixedSizeDatatype, data: unknown, count: number): Result<Uint8Array, TensorDataError> {
  const write = WRITERS[datatype];
  const out = new Uint8Array(count * elementSize(datatype));
  const view = new DataView(out.buffer);
  if (!Array.isArray(data)) {
    const problem = write(view, 0, data);
    return problem === undefined ? ok(out) : err(elementError(problem.reason, 0, problem.detail));
  }
  let index = 0;
  let failure: TensorDataError | undefined;
  forEachRun(data, (run, start, end) => {
    for (let i = start; i < end; i++, index++) {
      const problem = write(view, index, run[i]);
      if (problem !== undefined) {
        failure = elementError(problem.reason, index, problem.detail);
        return true;
      }
    }
    return false;
  });
  return failure === undefined ? ok(out) : err(failure);
}

/** Why one element was refused; built only on failure. */
type ElementProblem = { readonly reason: TensorDataErrorReason; readonly detail: string };

/** Writes element `index` into `view`, or says why it cannot. */
type ElementWriter = (view: DataView, index: number, value: unknown) => ElementProblem | undefined;

type IntegerDatatype = 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64';

/** Bounds as text for messages, and as numbers: `min` and `limit` (max + 1), both exact doubles. */
type IntegerRange = { readonly min: number; readonly limit: number; readonly text: string };

const INTEGER_RANGES: Readonly<Record<IntegerDatatype, IntegerRange>> = {
  UINT8: { min: 0, limit: 2 ** 8, text: '0..255' },
  UINT16: { min: 0, limit: 2 ** 16, text: '0..65535' },
  UINT32: { min: 0, limit: 2 ** 32, text: '0..4294967295' },
  UINT64: { min: 0, limit: 2 ** 64, text: '0..18446744073709551615' },
  INT8: { min: -(2 ** 7), limit: 2 ** 7, text: '-128..127' },
  INT16: { min: -(2 ** 15), limit: 2 ** 15, text: '-32768..32767' },
  INT32: { min: -(2 ** 31), limit: 2 ** 31, text: '-2147483648..2147483647' },
  INT64: { min: -(2 ** 63), limit: 2 ** 63, text: '-9223372036854775808..9223372036854775807' },
};

const TWO_TO_32 = 2 ** 32;

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isSafeIntegerFrom(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function integerProblem(datatype: IntegerDatatype, value: unknown): ElementProblem {
  if (typeof value !== 'number') {
    return { reason: 'type', detail: `expected an integer for ${datatype}, got ${describeValue(value)}` };
  }
  if (!Number.isInteger(value)) return { reason: 'type', detail: `expected an integer for ${datatype}, got ${value}` };
  const range = INTEGER_RANGES[datatype];
  if (value < range.min || value >= range.limit) {
    return { reason: 'range', detail: `${value} is out of range for ${datatype} (${range.text})` };
  }
  return {
    reason: 'unsafe-integer',
    detail:
      `${value} is beyond +-${Number.MAX_SAFE_INTEGER}, where JSON numbers stop being exact; ` +
      `send ${datatype} values this large as binary data`,
  };
}

function floatProblem(datatype: FixedSizeDatatype, value: unknown, max: string): ElementProblem {
  if (typeof value !== 'number') {
    return { reason: 'type', detail: `expected a number for ${datatype}, got ${describeValue(value)}` };
  }
  if (!Number.isFinite(value)) return { reason: 'type', detail: `expected a finite number for ${datatype}, got ${value}` };
  return { reason: 'range', detail: `${value} is out of range for ${datatype} (max +-${max})` };
}

const FP32_MAX_TEXT = '3.4028234663852886e+38';

const WRITERS: Readonly<Record<FixedSizeDatatype, ElementWriter>> = {
  BOOL: (view, index, value) => {
    if (typeof value !== 'boolean') {
      return { reason: 'type', detail: `expected a boolean for BOOL, got ${describeValue(value)}` };
    }
    view.setUint8(index, value ? 1 : 0);
    return undefined;
  },
  UINT8: (view, index, value) => {
    if (!isIntegerIn(value, 0, 0xff)) return integerProblem('UINT8', value);
    view.setUint8(index, value);
    return undefined;
  },
  INT8: (view, index, value) => {
    if (!isIntegerIn(value, -0x80, 0x7f)) return integerProblem('INT8', value);
    view.setInt8(index, value);
    return undefined;
  },
  UINT16: (view, index, value) => {
    if (!isIntegerIn(value, 0, 0xffff)) return integerProblem('UINT16', value);
    view.setUint16(index * 2, value, true);
    return undefined;
  },
  INT16: (view, index, value) => {
    if (!isIntegerIn(value, -0x8000, 0x7fff)) return integerProblem('INT16', value);
    view.setInt16(index * 2, value, true);
    return undefined;
  },
  UINT32: (view, index, value) => {
    if (!isIntegerIn(value, 0, 0xffffffff)) return integerProblem('UINT32', value);
    view.setUint32(index * 4, value, true);
    return undefined;
  },
  INT32: (view, index, value) => {
    if (!isIntegerIn(value, -0x80000000, 0x7fffffff)) return integerProblem('INT32', value);
    view.setInt32(index * 4, value, true);
    return undefined;
  },
  // 64-bit integers are written as two 32-bit halves: no BigInt per element.
  UINT64: (view, index, value) => {
    if (!isSafeIntegerFrom(value, 0)) return integerProblem('UINT64', value);
    view.setUint32(index * 8, value >>> 0, true);
    view.setUint32(index * 8 + 4, Math.floor(value / TWO_TO_32), true);
    return undefined;
  },
  INT64: (view, index, value) => {
    if (!isSafeIntegerFrom(value, -Number.MAX_SAFE_INTEGER)) return integerProblem('INT64', value);
    // `>>> 0` is the value modulo 2^32 and floor division keeps the sign: two's complement halves.
    view.setUint32(index * 8, value >>> 0, true);
    view.setInt32(index * 8 + 4, Math.floor(value / TWO_TO_32), true);
    return undefined;
  },
  FP16: (view, index, value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return floatProblem('FP16', value, String(FP16_MAX));
    const bits = numberToFp16Bits(value);
    if (isFp16Infinity(bits)) return floatProblem('FP16', value, String(FP16_MAX));
    view.setUint16(index * 2, bits, true);
    return undefined;
  },
  BF16: (view, index, value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return floatProblem('BF16', value, String(BF16_MAX));
    const bits = numberToBf16Bits(value);
    if (isBf16Infinity(bits)) return floatProblem('BF16', value, String(BF16_MAX));
    view.setUint16(index * 2, bits, true);
    return undefined;
  },
  FP32: (view, index, value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return floatProblem('FP32', value, FP32_MAX_TEXT);
    const rounded = Math.fround(value);
    if (rounded === Infinity || rounded === -Infinity) return floatProblem('FP32', value, FP32_MAX_TEXT);
    view.setFloat32(index * 4, rounded, true);
    return undefined;
  },
  FP64: (view, index, value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return floatProblem('FP64', value, String(Number.MAX_VALUE));
    view.setFloat64(index * 8, value, true);
    return undefined;
  },
};
