/**
 * FP16 (IEEE 754 binary16) and BF16 (bfloat16) <-> number, as 16-bit patterns.
 *
 * Encoding rounds the double directly to the nearest representable value, ties to even (no double
 * rounding through float32), handles subnormals and signed zero, and overflows to infinity exactly
 * where IEEE round-to-nearest does: at max finite + half an ulp (65520 for FP16). NaN encodes as the
 * positive quiet NaN.
 */

type SmallFloatFormat = {
  /** Bits of stored mantissa (fraction). */
  readonly mantissaBits: number;
  readonly bias: number;
  /** Exponent of the smallest normal value, 1 - bias. */
  readonly minExponent: number;
  /** Smallest normal value, 2^minExponent. */
  readonly minNormal: number;
  /** Values at or beyond this magnitude round to infinity. */
  readonly overflowThreshold: number;
  readonly signBit: number;
  readonly infinityBits: number;
  readonly nanBits: number;
  readonly exponentMask: number;
  readonly mantissaMask: number;
  /** The all-ones exponent field of infinities and NaNs. */
  readonly specialExponentField: number;
};

function format(exponentBits: number, mantissaBits: number): SmallFloatFormat {
  const bias = 2 ** (exponentBits - 1) - 1;
  const maxExponent = bias;
  const maxFinite = (2 - 2 ** -mantissaBits) * 2 ** maxExponent;
  const halfUlpAtMax = 2 ** (maxExponent - mantissaBits - 1);
  const exponentMask = ((1 << exponentBits) - 1) << mantissaBits;
  return Object.freeze({
    mantissaBits,
    bias,
    minExponent: 1 - bias,
    minNormal: 2 ** (1 - bias),
    overflowThreshold: maxFinite + halfUlpAtMax,
    signBit: 1 << (exponentBits + mantissaBits),
    infinityBits: exponentMask,
    nanBits: exponentMask | (1 << (mantissaBits - 1)),
    exponentMask,
    mantissaMask: (1 << mantissaBits) - 1,
    specialExponentField: (1 << exponentBits) - 1,
  });
}

const FP16 = format(5, 10);
const BF16 = format(8, 7);

/** Largest finite FP16 value. */
export const FP16_MAX = 65504;
/** Largest finite BF16 value, (2 - 2^-7) * 2^127. */
export const BF16_MAX = 3.3895313892515355e38;
/** Smallest positive FP16 value (subnormal), 2^-24. */
export const FP16_MIN_SUBNORMAL = 2 ** -24;
/** Smallest positive BF16 value (subnormal), 2^-133. */
export const BF16_MIN_SUBNORMAL = 2 ** -133;

// Reads the exponent of a normal double exactly (Math.log2 can be off by one near powers of two).
const scratch = new DataView(new ArrayBuffer(8));

function exponentOf(normalDouble: number): number {
  scratch.setFloat64(0, normalDouble);
  return ((scratch.getUint16(0) >>> 4) & 0x7ff) - 1023;
}

// Exact powers of two 2^-160 .. 2^160, so the hot paths avoid Math.pow.
const POW2_OFFSET = 160;
const POW2 = Float64Array.from({ length: 2 * POW2_OFFSET + 1 }, (_, i) => 2 ** (i - POW2_OFFSET));

function pow2(exponent: number): number {
  return POW2[exponent + POW2_OFFSET] ?? 2 ** exponent;
}

/** Rounds a non-negative number below 2^52 to an integer, ties to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function encode(value: number, f: SmallFloatFormat): number {
  if (value !== value) return f.nanBits;
  const sign = value < 0 || Object.is(value, -0) ? f.signBit : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= f.overflowThreshold) return sign | f.infinityBits;
  if (magnitude < f.minNormal) {
    // Subnormal: units of 2^(minExponent - mantissaBits). Scaling by a power of two is exact, and a
    // result that rounds up to 2^mantissaBits is the smallest normal's pattern, as it should be.
    return sign | roundHalfEven(magnitude * pow2(f.mantissaBits - f.minExponent));
  }
  const exponent = exponentOf(magnitude);
  // Significand scaled to [2^m, 2^(m+1)]; a carry to 2^(m+1) correctly bumps the exponent field.
  const significand = roundHalfEven(magnitude * pow2(f.mantissaBits - exponent));
  return sign | (((exponent + f.bias) << f.mantissaBits) + significand - (1 << f.mantissaBits));
}

function decode(bits: number, f: SmallFloatFormat): number {
  const sign = bits & f.signBit ? -1 : 1;
  const exponentField = (bits & f.exponentMask) >>> f.mantissaBits;
  const mantissa = bits & f.mantissaMask;
  if (exponentField === 0) return sign * mantissa * pow2(f.minExponent - f.mantissaBits);
  if (exponentField === f.specialExponentField) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (mantissa + (1 << f.mantissaBits)) * pow2(exponentField - f.bias - f.mantissaBits);
}

/** Nearest FP16 (ties to even) as a 16-bit pattern; beyond +-65504 (from 65520 on) gives infinity. */
export function numberToFp16Bits(value: number): number {
  return encode(value, FP16);
}

export function fp16BitsToNumber(bits: number): number {
  return decode(bits & 0xffff, FP16);
}

/** Nearest BF16 (ties to even) as a 16-bit pattern; beyond BF16_MAX + half an ulp gives infinity. */
export function numberToBf16Bits(value: number): number {
  return encode(value, BF16);
}

export function bf16BitsToNumber(bits: number): number {
  return decode(bits & 0xffff, BF16);
}

/** Whether a 16-bit pattern is an infinity (either sign) in the given format. */
export function isFp16Infinity(bits: number): boolean {
  return (bits & 0x7fff) === FP16.infinityBits;
}

export function isBf16Infinity(bits: number): boolean {
  return (bits & 0x7fff) === BF16.infinityBits;
}
