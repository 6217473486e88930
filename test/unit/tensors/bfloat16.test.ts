import { describe, expect, it } from 'vitest';
import { BF16_MAX, BF16_MIN_SUBNORMAL, bf16BitsToNumber, numberToBf16Bits } from '../../../gateway/tensors/bfloat16.ts';

function isNaNBits(bits: number): boolean {
  return (bits & 0x7f80) === 0x7f80 && (bits & 0x007f) !== 0;
}

describe('BF16', () => {
  it.each<[number, number]>([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3f80],
    [-2, 0xc000],
    [BF16_MAX, 0x7f7f],
    [2 ** -126, 0x0080], // smallest normal
    [BF16_MIN_SUBNORMAL, 0x0001], // smallest subnormal, 2^-133
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [3.140625, 0x4049],
  ])('%d <-> %s', (value, bits) => {
    expect(numberToBf16Bits(value)).toBe(bits);
    expect(Object.is(bf16BitsToNumber(bits), value)).toBe(true);
  });

  it.each<[string, number, number]>([
    ['1 + half ulp ties to even (down)', 1 + 2 ** -8, 0x3f80],
    ['1 + 3 half ulps ties to even (up)', 1 + 3 * 2 ** -8, 0x3f82],
    ['pi rounds to nearest', Math.PI, 0x4049],
    ['max + just under half ulp stays max', BF16_MAX + 2 ** 118, 0x7f7f],
    ['max + half ulp ties to even: infinity', BF16_MAX + 2 ** 119, 0x7f80],
    ['FP32 max overflows BF16', 3.4028234663852886e38, 0x7f80],
    ['half the smallest subnormal ties to zero', 2 ** -134, 0x0000],
  ])('%s', (_, value, bits) => {
    expect(numberToBf16Bits(value)).toBe(bits);
  });

  it('every non-NaN pattern decodes and re-encodes to itself, and equals the top half of the FP32', () => {
    const view = new DataView(new ArrayBuffer(4));
    for (let bits = 0; bits <= 0xffff; bits++) {
      if (isNaNBits(bits)) continue;
      const value = bf16BitsToNumber(bits);
      view.setUint32(0, bits << 16);
      if (!Object.is(view.getFloat32(0), value)) throw new Error(`pattern ${bits.toString(16)} decodes to ${value}`);
      if (numberToBf16Bits(value) !== bits) throw new Error(`pattern ${bits.toString(16)} re-encodes differently`);
    }
    expect(bf16BitsToNumber(0x7fc0)).toBeNaN();
    expect(isNaNBits(numberToBf16Bits(Number.NaN))).toBe(true);
    expect(bf16BitsToNumber(0xff80)).toBe(-Infinity);
  });
});
