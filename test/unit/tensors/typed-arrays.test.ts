import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import type { FixedSizeDatatype, TensorArray } from '../../../gateway/tensors/datatype.ts';
import { fromTypedArray, toTypedArray } from '../../../gateway/tensors/typed-arrays.ts';
import { fromHex, hex, unaligned } from './hex.ts';

// Raw little-endian bytes for each fixed-size datatype, the array kind they give, and the values.
type Case = [FixedSizeDatatype, string, string, (number | bigint)[]];
const CASES: Case[] = [
  ['BOOL', 'Uint8Array', '01 00 01', [1, 0, 1]],
  ['UINT8', 'Uint8Array', '00 7f ff', [0, 127, 255]],
  ['INT8', 'Int8Array', '80 ff 7f', [-128, -1, 127]],
  ['UINT16', 'Uint16Array', '34 12 ff ff', [0x1234, 0xffff]],
  ['INT16', 'Int16Array', '00 80 fe ff', [-32768, -2]],
  ['FP16', 'Float16Array', '00 3c ff 7b 00 80', [1, 65504, -0]],
  ['BF16', 'Uint16Array', '80 3f 49 40', [0x3f80, 0x4049]],
  ['UINT32', 'Uint32Array', 'ef be ad de 01 00 00 00', [0xdeadbeef, 1]],
  ['INT32', 'Int32Array', '00 00 00 80 ff ff ff ff', [-2147483648, -1]],
  ['FP32', 'Float32Array', '00 00 80 3f 00 00 20 c0', [1, -2.5]],
  ['UINT64', 'BigUint64Array', 'ff ff ff ff ff ff ff ff 01 00 00 00 00 00 00 00', [2n ** 64n - 1n, 1n]],
  ['INT64', 'BigInt64Array', '00 00 00 00 00 00 00 80 fe ff ff ff ff ff ff ff', [-(2n ** 63n), -2n]],
  ['FP64', 'Float64Array', '00 00 00 00 00 00 f0 3f 9a 99 99 99 99 99 b9 3f', [1, 0.1]],
];

describe('raw -> typed array -> raw', () => {
  it.each(CASES)('%s gives a %s', (datatype, kind, bytes, values) => {
    for (const source of [fromHex(bytes), unaligned(fromHex(bytes)), Buffer.from(fromHex(bytes))]) {
      const array = toTypedArray(datatype, source);
      expect(array.ok).toBe(true);
      if (!array.ok) return;
      expect(array.value.constructor.name).toBe(kind);
      expect(Array.from(array.value as Iterable<number | bigint>)).toEqual(values);
      const back = fromTypedArray(datatype, array.value);
      expect(back.ok && hex(back.value)).toBe(bytes);
    }
  });

  it('shares memory with an aligned source, copies an unaligned one', () => {
    const aligned = fromHex('00 00 80 3f');
    const view = toTypedArray('FP32', aligned);
    expect(view.ok && view.value.buffer).toBe(aligned.buffer);
    const odd = unaligned(aligned);
    const copy = toTypedArray('FP32', odd);
    expect(copy.ok && copy.value.buffer).not.toBe(odd.buffer);
  });

  it('fromTypedArray views the array bytes in place', () => {
    const floats = new Float32Array([1, 2, 3]).subarray(1);
    const bytes = fromTypedArray('FP32', floats);
    expect(bytes.ok && hex(bytes.value)).toBe('00 00 00 40 00 00 40 40');
    expect(bytes.ok && bytes.value.buffer).toBe(floats.buffer);
  });

  it('handles BYTES as string arrays', () => {
    const strings = toTypedArray('BYTES', fromHex('02 00 00 00 61 62 00 00 00 00'));
    expect(strings).toEqual({ ok: true, value: ['ab', ''] });
    const back = fromTypedArray('BYTES', ['ab', '']);
    expect(back.ok && hex(back.value)).toBe('02 00 00 00 61 62 00 00 00 00');
  });

  it('refuses a length that is not whole elements', () => {
    expect(toTypedArray('FP64', new Uint8Array(12))).toEqual({
      ok: false,
      error: { reason: 'length', message: '12 bytes is not a whole number of 8-byte FP64 elements' },
    });
    expect(toTypedArray('BYTES', fromHex('09 00 00 00')).ok).toBe(false);
  });

  it.each<[FixedSizeDatatype | 'BYTES', TensorArray, string]>([
    ['FP32', new Float64Array(1), 'expected a Float32Array for FP32, got a Float64Array'],
    ['INT64', new Int32Array(1), 'expected a BigInt64Array for INT64, got a Int32Array'],
    ['BYTES', new Uint8Array(1), 'expected an array of strings for BYTES, got a Uint8Array'],
    ['UINT8', ['a'], 'expected a Uint8Array for UINT8, got an Array'],
    ['FP16', new Uint16Array(1), 'expected a Float16Array for FP16, got a Uint16Array'],
  ])('refuses a mismatched array kind for %s', (datatype, array, message) => {
    expect(fromTypedArray(datatype, array)).toEqual({ ok: false, error: { reason: 'array-type', message } });
  });
});
