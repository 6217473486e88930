import { describe, expect, it } from 'vitest';
import {
  BF16_MAX,
  BF16_MIN_SUBNORMAL,
  FP16_MAX,
  FP16_MIN_SUBNORMAL,
  bf16BitsToNumber,
  fp16BitsToNumber,
  isBf16Infinity,
  isFp16Infinity,
  numberToBf16Bits,
  numberToFp16Bits,
} from '../../../gateway/tensors/half-float.ts';

// Node 24 has Math.f16round (correctly rounded from double); TypeScript's lib does not declare it yet.
const f16round = (Math as unknown as { f16round(x: number): number }).f16round;

function isNaNBits16(bits: number, exponentMask: number, mantissaMask: number): boolean {
  return (bits & exponentMask) === exponentMask && (bits & mantissaMask) !== 0;
}

describe('FP16', () => {
  it.each<[number, number]>([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-1, 0xbc00],
    [2, 0x4000],
    [0.5, 0x3800],
    [-2.5, 0xc100],
    [65504, 0x7bff],
    [-65504, 0xfbff],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1 / 3, 0x3555],
  ])('%d <-> %s', (value, bits) => {
    expect(numberToFp16Bits(value)).toBe(bits);
    expect(Object.is(fp16BitsToNumber(bits), value) || Math.abs(fp16BitsToNumber(bits) - value) < 2 ** -12).toBe(true);
  });

  it.each<[string, number, number]>([
    ['1 + half ulp ties to even (down)', 1 + 2 ** -11, 0x3c00],
    ['1 + 3 half ulps ties to even (up)', 1 + 3 * 2 ** -11, 0x3c02],
    ['just above the tie rounds up', 1 + 2 ** -11 + 2 ** -40, 0x3c01],
    ['half the smallest subnormal ties to zero', 2 ** -25, 0x0000],
    ['just above half the smallest subnormal rounds up', 2 ** -25 + 2 ** -60, 0x0001],
    ['1.5 smallest subnormals ties to even (2)', 1.5 * 2 ** -24, 0x0002],
    ['largest subnormal + half ulp carries into the smallest normal', 2 ** -14 - 2 ** -25, 0x0400],
    ['65519 rounds down to 65504', 65519, 0x7bff],
    ['65520 (max + half ulp) ties to even: infinity', 65520, 0x7c00],
    ['2048 + 1 ties to even (2048)', 2049, 0x6800],
    ['2048 + 3 ties to even (2052)', 2051, 0x6802],
    ['tiny negative rounds to -0', -(2 ** -30), 0x8000],
  ])('%s', (_, value, bits) => {
    expect(numberToFp16Bits(value)).toBe(bits);
  });

  it('NaN encodes as a quiet NaN and decodes to NaN', () => {
    const bits = numberToFp16Bits(Number.NaN);
    expect(isNaNBits16(bits, 0x7c00, 0x03ff)).toBe(true);
    expect(fp16BitsToNumber(0x7e00)).toBeNaN();
    expect(fp16BitsToNumber(0xfc01)).toBeNaN();
  });

  it('constants match the bit patterns', () => {
    expect(fp16BitsToNumber(0x7bff)).toBe(FP16_MAX);
    expect(fp16BitsToNumber(0x0001)).toBe(FP16_MIN_SUBNORMAL);
    expect(isFp16Infinity(0x7c00) && isFp16Infinity(0xfc00)).toBe(true);
    expect(isFp16Infinity(0x7bff) || isFp16Infinity(0x7e00)).toBe(false);
  });

  it('every non-NaN pattern decodes and re-encodes to itself, matching Math.f16round', () => {
    for (let bits = 0; bits <= 0xffff; bits++) {
      if (isNaNBits16(bits, 0x7c00, 0x03ff)) continue;
      const value = fp16BitsToNumber(bits);
      if (numberToFp16Bits(value) !== bits) throw new Error(`pattern ${bits.toString(16)} -> ${value} -> ${numberToFp16Bits(value).toString(16)}`);
      if (!Object.is(f16round(value), value)) throw new Error(`pattern ${bits.toString(16)} decodes to ${value}, not an FP16 value`);
    }
  });

  it('rounds exactly like Math.f16round at every midpoint and on random doubles', () => {
    for (let bits = 0; bits < 0x7bff; bits++) {
      const low = fp16BitsToNumber(bits);
      const high = fp16BitsToNumber(bits + 1);
      for (const value of [(low + high) / 2, -(low + high) / 2]) {
        if (fp16BitsToNumber(numberToFp16Bits(value)) !== f16round(value)) throw new Error(`midpoint ${value}`);
      }
    }
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20000; i++) {
      const value = (random() - 0.5) * 2 ** (random() * 50 - 30);
      const got = fp16BitsToNumber(numberToFp16Bits(value));
      if (!Object.is(got, f16round(value))) throw new Error(`value ${value}: got ${got}, want ${f16round(value)}`);
    }
  });
});

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
      if (isNaNBits16(bits, 0x7f80, 0x007f)) continue;
      const value = bf16BitsToNumber(bits);
      view.setUint32(0, bits << 16);
      if (!Object.is(view.getFloat32(0), value)) throw new Error(`pattern ${bits.toString(16)} decodes to ${value}`);
      if (numberToBf16Bits(value) !== bits) throw new Error(`pattern ${bits.toString(16)} re-encodes differently`);
    }
    expect(bf16BitsToNumber(0x7fc0)).toBeNaN();
    expect(isNaNBits16(numberToBf16Bits(Number.NaN), 0x7f80, 0x007f)).toBe(true);
    expect(isBf16Infinity(0xff80) && !isBf16Infinity(0x7f7f)).toBe(true);
  });
});
