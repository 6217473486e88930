import { describe, expect, it } from 'vitest';
import { decodeRawData } from '../../../gateway/tensors/raw-decoder.ts';
import type { JsonTensorValue } from '../../../gateway/tensors/raw-decoder.ts';
import type { Datatype } from '../../../gateway/tensors/datatype.ts';
import { fromHex, unaligned } from './hex.ts';

function decodeJson(datatype: Datatype, bytes: string): string {
  const result = decodeRawData(datatype, fromHex(bytes));
  if (!result.ok) throw new Error(result.error.message);
  return JSON.stringify(result.value);
}

describe('decodeRawData', () => {
  it.each<[Datatype, string, string]>([
    ['BOOL', '01 00 02', '[true,false,true]'],
    ['UINT8', '00 ff', '[0,255]'],
    ['INT8', 'ff 80', '[-1,-128]'],
    ['UINT16', '34 12', '[4660]'],
    ['INT16', 'fe ff', '[-2]'],
    ['UINT32', 'ef be ad de', '[3735928559]'],
    ['INT32', '00 00 00 80', '[-2147483648]'],
    ['FP32', '00 00 80 3f 00 00 20 c0', '[1,-2.5]'],
    ['FP32', 'cd cc cc 3d', '[0.10000000149011612]'], // FP32 0.1 widened exactly
    ['FP32', '00 00 c0 7f 00 00 80 ff', '[null,null]'], // NaN and -Infinity: JSON has no such numbers
    ['FP64', '00 00 00 00 00 00 f0 3f', '[1]'],
    ['FP16', '00 3c 00 80 ff 7b 01 00', `[1,0,65504,${2 ** -24}]`],
    ['FP16', '00 7c 00 fc 00 7e', '[null,null,null]'], // infinities and NaN
    ['BF16', '80 3f 49 40', '[1,3.140625]'],
    ['BYTES', '02 00 00 00 61 62 00 00 00 00', '["ab",""]'],
    ['INT64', 'ff ff ff ff ff ff ff ff', '[-1]'],
    ['INT64', 'ff ff ff ff ff ff 1f 00', '[9007199254740991]'],
    ['INT64', '00 00 00 00 00 00 20 00', '[9007199254740992]'],
    ['INT64', '01 00 00 00 00 00 20 00', '[9007199254740993]'],
    ['INT64', '01 00 00 00 00 00 e0 ff', '[-9007199254740991]'],
    ['INT64', 'ff ff ff ff ff ff df ff', '[-9007199254740993]'],
    ['INT64', 'ff ff ff ff ff ff ff 7f', '[9223372036854775807]'],
    ['INT64', '00 00 00 00 00 00 00 80', '[-9223372036854775808]'],
    ['UINT64', 'ff ff ff ff ff ff ff ff', '[18446744073709551615]'],
    ['UINT64', '05 00 00 00 01 00 00 00', '[4294967301]'],
  ])('%s %s -> %s', (datatype, bytes, json) => {
    expect(decodeJson(datatype, bytes)).toBe(json);
  });

  it('gives plain numbers for safe 64-bit integers and exact raw JSON beyond', () => {
    const result = decodeRawData('INT64', fromHex('ff ff ff ff ff ff 1f 00 00 00 00 00 00 00 20 00'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [safe, big] = result.value;
    expect(safe).toBe(9007199254740991);
    expect(typeof big).toBe('object');
    expect((big as { rawJSON: string }).rawJSON).toBe('9007199254740992');
  });

  it('reads an unaligned source', () => {
    const bytes = unaligned(fromHex('00 00 80 3f 00 00 00 40'));
    expect(decodeRawData('FP32', bytes)).toEqual({ ok: true, value: [1, 2] });
  });

  it('returns an empty array for empty data', () => {
    expect(decodeRawData('FP32', new Uint8Array(0), 0)).toEqual({ ok: true, value: [] });
    expect(decodeRawData('BYTES', new Uint8Array(0))).toEqual({ ok: true, value: [] });
  });

  it.each<[Datatype, string, number | undefined, string]>([
    ['FP32', '00 00 80', undefined, '3 bytes is not a whole number of 4-byte FP32 elements'],
    ['FP32', '00 00 80 3f', 2, 'expected 2 FP32 elements (8 bytes), got 4 bytes'],
    ['BYTES', '01 00 00 00 61', 2, 'expected 2 elements, got 1'],
    ['BYTES', '01 00 00 00', undefined, 'element 0: length 1 at byte 0 runs past the end of the data (0 bytes left)'],
  ])('%s %s (count %s) fails: %s', (datatype, bytes, count, message) => {
    const result = decodeRawData(datatype, fromHex(bytes), count);
    expect(!result.ok && result.error.message).toBe(message);
  });

  it('types its values as JSON values', () => {
    const values: JsonTensorValue[] = [true, 1, 'a'];
    expect(values).toHaveLength(3);
  });
});
