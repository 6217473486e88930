import { describe, expect, it } from 'vitest';
import { checkRawLength, countRawElements } from '../../../gateway/tensors/raw-validation.ts';
import type { Datatype } from '../../../gateway/tensors/datatype.ts';
import { fromHex } from './hex.ts';

describe('countRawElements', () => {
  it.each<[Datatype, number, number]>([
    ['BOOL', 3, 3],
    ['INT8', 0, 0],
    ['FP16', 8, 4],
    ['BF16', 2, 1],
    ['FP32', 12, 3],
    ['INT64', 16, 2],
    ['FP64', 8, 1],
  ])('%s: %d bytes = %d elements', (datatype, length, count) => {
    expect(countRawElements(datatype, new Uint8Array(length))).toEqual({ ok: true, value: count });
  });

  it.each<[Datatype, number, number]>([
    ['FP16', 3, 2],
    ['FP32', 10, 4],
    ['UINT64', 12, 8],
  ])('%s: %d bytes is not whole elements', (datatype, length, size) => {
    expect(countRawElements(datatype, new Uint8Array(length))).toEqual({
      ok: false,
      error: { reason: 'length', message: `${length} bytes is not a whole number of ${size}-byte ${datatype} elements` },
    });
  });

  it('counts BYTES elements by their length prefixes', () => {
    expect(countRawElements('BYTES', fromHex('01 00 00 00 61 00 00 00 00'))).toEqual({ ok: true, value: 2 });
    expect(countRawElements('BYTES', fromHex('05 00 00 00 61')).ok).toBe(false);
  });
});

describe('checkRawLength', () => {
  it('accepts exactly count x size bytes', () => {
    expect(checkRawLength('FP32', new Uint8Array(16), 4)).toEqual({ ok: true, value: undefined });
    expect(checkRawLength('FP32', new Uint8Array(0), 0).ok).toBe(true);
  });

  it('refuses any other length', () => {
    expect(checkRawLength('FP32', new Uint8Array(12), 4)).toEqual({
      ok: false,
      error: { reason: 'length', message: 'expected 4 FP32 elements (16 bytes), got 12 bytes' },
    });
  });

  it('checks the BYTES element count and a truncated prefix', () => {
    const two = fromHex('01 00 00 00 61 00 00 00 00');
    expect(checkRawLength('BYTES', two, 2).ok).toBe(true);
    expect(checkRawLength('BYTES', two, 3)).toEqual({
      ok: false,
      error: { reason: 'count', message: 'expected 3 elements, got 2' },
    });
    const truncated = checkRawLength('BYTES', fromHex('01 00 00 00 61 00 00'), 2);
    expect(!truncated.ok && truncated.error).toEqual({
      reason: 'truncated',
      index: 1,
      message: 'element 1: length prefix at byte 5 is truncated (2 of 4 bytes present)',
    });
  });
});
