// JSON data -> raw bytes -> JSON values, for every datatype.
import { describe, expect, it } from 'vitest';
import { DATATYPES } from '../../../gateway/tensors/datatype.ts';
import type { Datatype } from '../../../gateway/tensors/datatype.ts';
import { encodeJsonData } from '../../../gateway/tensors/json-encoder.ts';
import { decodeRawData } from '../../../gateway/tensors/raw-decoder.ts';
import { elementCount } from '../../../gateway/tensors/shape.ts';

type Case = [name: string, datatype: Datatype, shape: number[], data: unknown, decoded: unknown[]];

const CASES: Case[] = [
  ['BOOL nested', 'BOOL', [2, 2], [[true, false], [false, true]], [true, false, false, true]],
  ['UINT8 extremes', 'UINT8', [3], [0, 1, 255], [0, 1, 255]],
  ['UINT16 extremes', 'UINT16', [3], [0, 1, 65535], [0, 1, 65535]],
  ['UINT32 extremes', 'UINT32', [3], [0, 1, 4294967295], [0, 1, 4294967295]],
  ['UINT64 safe extremes', 'UINT64', [3], [0, 2 ** 32, 2 ** 53 - 1], [0, 2 ** 32, 2 ** 53 - 1]],
  ['INT8 extremes', 'INT8', [3], [-128, 0, 127], [-128, 0, 127]],
  ['INT16 extremes', 'INT16', [3], [-32768, -1, 32767], [-32768, -1, 32767]],
  ['INT32 extremes', 'INT32', [3], [-2147483648, -1, 2147483647], [-2147483648, -1, 2147483647]],
  ['INT64 safe extremes', 'INT64', [4], [-(2 ** 53) + 1, -(2 ** 32) - 1, -1, 2 ** 53 - 1], [-(2 ** 53) + 1, -(2 ** 32) - 1, -1, 2 ** 53 - 1]],
  ['FP16 edge values', 'FP16', [6], [0, -0, 1, 65504, 2 ** -24, 1 + 2 ** -11], [0, -0, 1, 65504, 2 ** -24, 1]],
  ['FP16 rounding ties to even', 'FP16', [2], [2049, 2051], [2048, 2052]],
  ['BF16 edge values', 'BF16', [5], [0, -0, 1, 2 ** -133, 1 + 3 * 2 ** -8], [0, -0, 1, 2 ** -133, 1 + 2 ** -6]],
  ['FP32 rounding', 'FP32', [1, 3], [[0.1, -0, 3.4028235e38]], [Math.fround(0.1), -0, 3.4028234663852886e38]],
  ['FP32 smallest subnormal', 'FP32', [1], [2 ** -149], [2 ** -149]],
  ['FP64 exact', 'FP64', [2, 1], [[0.1], [-Number.MAX_VALUE]], [0.1, -Number.MAX_VALUE]],
  ['BYTES with empty and multi-byte strings', 'BYTES', [2, 2], [['', 'ab'], ['é日本', '\u{1F600}']], ['', 'ab', 'é日本', '\u{1F600}']],
  ['scalar shape', 'INT32', [], 42, [42]],
];

const EMPTY_CASES: Case[] = DATATYPES.map((dt): Case => [`${dt} empty tensor`, dt, [3, 0], [], []]);

describe('JSON -> raw -> JSON', () => {
  it.each([...CASES, ...EMPTY_CASES])('%s', (_, datatype, shape, data, decoded) => {
    const count = elementCount(shape);
    const raw = encodeJsonData(datatype, data, count, Math.max(shape.length, 1));
    if (!raw.ok) throw new Error(raw.error.message);
    const back = decodeRawData(datatype, raw.value, count);
    if (!back.ok) throw new Error(back.error.message);
    expect(back.value).toHaveLength(decoded.length);
    back.value.forEach((value, i) => expect(Object.is(value, decoded[i]), `element ${i}: ${String(value)}`).toBe(true));
  });

  it('covers every datatype with data', () => {
    expect(new Set(CASES.map((c) => c[1]))).toEqual(new Set(DATATYPES));
  });

  it('keeps 64-bit integers beyond 2^53 exact from raw to JSON text', () => {
    const raw = new Uint8Array(16);
    const view = new DataView(raw.buffer);
    view.setBigInt64(0, -(2n ** 63n), true);
    view.setBigInt64(8, 2n ** 53n + 1n, true);
    const back = decodeRawData('INT64', raw, 2);
    expect(back.ok && JSON.stringify({ data: back.value })).toBe('{"data":[-9223372036854775808,9007199254740993]}');
  });
});
