/**
 * Raw little-endian tensor bytes (Triton's raw_output_contents) -> the flat array of JSON values of
 * a REST response's `data`.
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { decodeBytesElements } from './bytes-elements.ts';
import type { Datatype } from './datatype.ts';
import { bf16BitsToNumber, fp16BitsToNumber } from './half-float.ts';
import { checkRawLength, countRawElements } from './raw-validation.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/** What `JSON.rawJSON` returns: JSON.stringify writes `rawJSON` verbatim. */
export type RawJson = { readonly rawJSON: string };

export type JsonTensorValue = boolean | number | string | RawJson;

// JSON.rawJSON is in Node 24 (V8) but not yet in TypeScript's lib.
const jsonWithRaw = JSON as unknown as { rawJSON(text: string): RawJson };

const TWO_TO_32 = 2 ** 32;

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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: JsonTensorValue[] = [];
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < count; i++) out.push(view.getUint8(i) !== 0);
      break;
    case 'UINT8':
      for (let i = 0; i < count; i++) out.push(view.getUint8(i));
      break;
    case 'INT8':
      for (let i = 0; i < count; i++) out.push(view.getInt8(i));
      break;
    case 'UINT16':
      for (let i = 0; i < count; i++) out.push(view.getUint16(i * 2, true));
      break;
    case 'INT16':
      for (let i = 0; i < count; i++) out.push(view.getInt16(i * 2, true));
      break;
    case 'UINT32':
      for (let i = 0; i < count; i++) out.push(view.getUint32(i * 4, true));
      break;
    case 'INT32':
      for (let i = 0; i < count; i++) out.push(view.getInt32(i * 4, true));
      break;
    case 'UINT64':
      for (let i = 0; i < count; i++) {
        const offset = i * 8;
        const value = view.getUint32(offset + 4, true) * TWO_TO_32 + view.getUint32(offset, true);
        // Rounding is monotonic: a sum that is not exact lands at or beyond 2^53, so is not "safe".
        out.push(Number.isSafeInteger(value) ? value : jsonWithRaw.rawJSON(view.getBigUint64(offset, true).toString()));
      }
      break;
    case 'INT64':
      for (let i = 0; i < count; i++) {
        const offset = i * 8;
        const value = view.getInt32(offset + 4, true) * TWO_TO_32 + view.getUint32(offset, true);
        out.push(Number.isSafeInteger(value) ? value : jsonWithRaw.rawJSON(view.getBigInt64(offset, true).toString()));
      }
      break;
    case 'FP16':
      for (let i = 0; i < count; i++) out.push(fp16BitsToNumber(view.getUint16(i * 2, true)));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out.push(bf16BitsToNumber(view.getUint16(i * 2, true)));
      break;
    case 'FP32':
      for (let i = 0; i < count; i++) out.push(view.getFloat32(i * 4, true));
      break;
    case 'FP64':
      for (let i = 0; i < count; i++) out.push(view.getFloat64(i * 8, true));
      break;
    default:
      return unreachable(datatype);
  }
  return ok(out);
}

function unreachable(datatype: never): never {
  throw new Error(`unhandled datatype ${String(datatype)}`);
}
