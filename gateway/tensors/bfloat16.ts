/**
 * BF16 (bfloat16, the top half of an FP32) <-> number. FP16 has the platform's Float16Array,
 * Math.f16round and DataView.getFloat16; BF16 has nothing of the kind, so it is done here.
 *
 * Encoding rounds the double directly to the nearest BF16, ties to even (rounding through FP32 first
 * would round twice), keeps signed zero and subnormals, and overflows to infinity exactly where IEEE
 * round-to-nearest does: from BF16_MAX + half an ulp on. NaN encodes as the positive quiet NaN.
 */

const MANTISSA_BITS = 7;
const BIAS = 127;
/** Exponent of the smallest normal value. */
const MIN_EXPONENT = 1 - BIAS;
const MIN_NORMAL = 2 ** MIN_EXPONENT;
const SIGN_BIT = 0x8000;
const INFINITY_BITS = 0x7f80;
const NAN_BITS = 0x7fc0;

/** Largest finite BF16 value, (2 - 2^-7) * 2^127. */
export const BF16_MAX = (2 - 2 ** -MANTISSA_BITS) * 2 ** BIAS;
/** Smallest positive BF16 value (subnormal), 2^-133. */
export const BF16_MIN_SUBNORMAL = 2 ** (MIN_EXPONENT - MANTISSA_BITS);
/** Values at or beyond this magnitude round to infinity: the max plus half an ulp. */
const OVERFLOW_THRESHOLD = BF16_MAX + 2 ** (BIAS - MANTISSA_BITS - 1);

const scratch = new DataView(new ArrayBuffer(8));

/** The exponent of a normal double, read from its bits (Math.log2 can be off by one near powers of two). */
function exponentOf(normalDouble: number): number {
  scratch.setFloat64(0, normalDouble);
  return ((scratch.getUint16(0) >>> 4) & 0x7ff) - 1023;
}

/** Rounds a non-negative number below 2^52 to an integer, ties to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Nearest BF16 (ties to even) as a 16-bit pattern; from BF16_MAX + half an ulp on, infinity. */
export function numberToBf16Bits(value: number): number {
  if (value !== value) return NAN_BITS;
  const sign = value < 0 || Object.is(value, -0) ? SIGN_BIT : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= OVERFLOW_THRESHOLD) return sign | INFINITY_BITS;
  if (magnitude < MIN_NORMAL) {
    // Subnormal: units of the smallest subnormal. Scaling by a power of two is exact, and a result
    // that rounds up to 2^MANTISSA_BITS is the smallest normal's pattern, as it should be.
    return sign | roundHalfEven(magnitude * 2 ** (MANTISSA_BITS - MIN_EXPONENT));
  }
  const exponent = exponentOf(magnitude);
  // Significand scaled to [2^7, 2^8]; a carry to 2^8 correctly bumps the exponent field.
  const significand = roundHalfEven(magnitude * 2 ** (MANTISSA_BITS - exponent));
  return sign | (((exponent + BIAS) << MANTISSA_BITS) + significand - (1 << MANTISSA_BITS));
}

/** The value of a 16-bit pattern: the FP32 whose upper half it is (exact; NaN patterns give NaN). */
export function bf16BitsToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}
