import { describe, expect, it } from 'vitest';
import { encodeJsonData } from '../../../gateway/tensors/json-encoder.ts';
import type { Datatype } from '../../../gateway/tensors/datatype.ts';
import type { TensorDataError } from '../../../gateway/tensors/tensor-data-error.ts';
import { hex } from './hex.ts';

function encodeHex(datatype: Datatype, data: unknown[]): string {
  const result = encodeJsonData(datatype, data, data.flat(Infinity).length, 8);
  if (!result.ok) throw new Error(result.error.message);
  return hex(result.value);
}

function encodeError(datatype: Datatype, data: unknown[]): TensorDataError {
  const result = encodeJsonData(datatype, data, data.flat(Infinity).length, 8);
  if (result.ok) throw new Error(`expected ${JSON.stringify(data)} to be refused for ${datatype}`);
  return result.error;
}

describe('encodeJsonData: exact bytes', () => {
  it.each<[Datatype, unknown[], string]>([
    ['FP32', [1], '00 00 80 3f'],
    ['FP32', [-2.5, 0], '00 00 20 c0 00 00 00 00'],
    ['FP32', [3.4028235e38], 'ff ff 7f 7f'], // numpy's printed FP32 max rounds to the max, not infinity
    ['FP64', [1], '00 00 00 00 00 00 f0 3f'],
    ['FP16', [1], '00 3c'],
    ['FP16', [65504, -0], 'ff 7b 00 80'],
    ['FP16', [65519, -(2 ** -30)], 'ff 7b 00 80'], // rounds down to the max; a tiny negative to -0
    ['FP16', [1 + 2 ** -11, 1 + 3 * 2 ** -11], '00 3c 02 3c'], // ties to even, down then up
    ['FP16', [2 ** -25, 2 ** -25 + 2 ** -60, 2 ** -24], '00 00 01 00 01 00'], // subnormals: a tie to zero, then up
    ['BF16', [1 + 3 * 2 ** -8, Math.PI], '82 3f 49 40'],
    ['BF16', [1], '80 3f'],
    ['BOOL', [true, false, true], '01 00 01'],
    ['UINT8', [0, 255], '00 ff'],
    ['INT8', [-1, -128, 127], 'ff 80 7f'],
    ['UINT16', [0x1234], '34 12'],
    ['INT16', [-2], 'fe ff'],
    ['UINT32', [0xdeadbeef], 'ef be ad de'],
    ['INT32', [-2147483648], '00 00 00 80'],
    ['INT64', [-1], 'ff ff ff ff ff ff ff ff'],
    ['INT64', [-(2 ** 53) + 1], '01 00 00 00 00 00 e0 ff'],
    ['INT64', [2 ** 53 - 1], 'ff ff ff ff ff ff 1f 00'],
    ['INT64', [2 ** 32 + 5], '05 00 00 00 01 00 00 00'],
    ['UINT64', [2 ** 53 - 1], 'ff ff ff ff ff ff 1f 00'],
    ['BYTES', ['ab'], '02 00 00 00 61 62'],
    ['BYTES', ['', 'é'], '00 00 00 00 02 00 00 00 c3 a9'],
    ['BYTES', ['\u{1F600}'], '04 00 00 00 f0 9f 98 80'],
  ])('%s %j = %s', (datatype, data, bytes) => {
    expect(encodeHex(datatype, data)).toBe(bytes);
  });

  it('writes nested data row-major', () => {
    expect(encodeHex('UINT8', [[1, 2, 3], [4, 5, 6]])).toBe('01 02 03 04 05 06');
  });

  it('returns an empty buffer for an empty tensor', () => {
    expect(encodeJsonData('FP32', [[], []], 0, 2)).toEqual({ ok: true, value: new Uint8Array(0) });
    expect(encodeJsonData('BYTES', [], 0, 1)).toEqual({ ok: true, value: new Uint8Array(0) });
  });

  it('accepts a bare scalar as a single element', () => {
    const result = encodeJsonData('INT32', 7, 1, 0);
    expect(result.ok && hex(result.value)).toBe('07 00 00 00');
  });
});

type IntegerCase = [Datatype, number, number];
const INTEGER_LIMITS: IntegerCase[] = [
  ['UINT8', 0, 255],
  ['UINT16', 0, 65535],
  ['UINT32', 0, 4294967295],
  ['INT8', -128, 127],
  ['INT16', -32768, 32767],
  ['INT32', -2147483648, 2147483647],
];
const RANGE_TEXT: Record<string, string> = {
  UINT8: '0..255',
  UINT16: '0..65535',
  UINT32: '0..4294967295',
  UINT64: '0..18446744073709551615',
  INT8: '-128..127',
  INT16: '-32768..32767',
  INT32: '-2147483648..2147483647',
  INT64: '-9223372036854775808..9223372036854775807',
};

describe('encodeJsonData: integer ranges', () => {
  it.each(INTEGER_LIMITS)('%s accepts exactly min %d and max %d', (datatype, min, max) => {
    expect(encodeJsonData(datatype, [min, max], 2, 1).ok).toBe(true);
  });

  it.each(INTEGER_LIMITS.flatMap(([dt, min, max]): [Datatype, number][] => [[dt, min - 1], [dt, max + 1]]))(
    '%s refuses %d',
    (datatype, value) => {
      expect(encodeError(datatype, [0, value])).toEqual({
        reason: 'range',
        index: 1,
        message: `element 1: ${value} is out of range for ${datatype} (${RANGE_TEXT[datatype]})`,
      });
    },
  );

  it.each<[Datatype, number]>([
    ['UINT64', -1],
    ['UINT64', 2 ** 64],
    ['INT64', 2 ** 63],
    ['INT64', -(2 ** 64)],
  ])('%s refuses %d as out of range', (datatype, value) => {
    expect(encodeError(datatype, [value]).message).toBe(`element 0: ${value} is out of range for ${datatype} (${RANGE_TEXT[datatype]})`);
  });

  it('reproduces the documented message', () => {
    expect(encodeError('UINT8', [0, 1, 2, 300])).toEqual({
      reason: 'range',
      index: 3,
      message: 'element 3: 300 is out of range for UINT8 (0..255)',
    });
  });

  it.each<[Datatype, number]>([
    ['INT64', 2 ** 53],
    ['INT64', -(2 ** 53)],
    ['INT64', 2 ** 62],
    ['INT64', -(2 ** 63)],
    ['UINT64', 2 ** 53],
    ['UINT64', 2 ** 63],
  ])('%s refuses %d: beyond the safe-integer range', (datatype, value) => {
    const error = encodeError(datatype, [value]);
    expect(error.reason).toBe('unsafe-integer');
    expect(error.message).toBe(
      `element 0: ${value} is beyond +-9007199254740991, where JSON numbers stop being exact; send ${datatype} values this large as binary data`,
    );
  });

  it.each<[Datatype, unknown, string]>([
    ['INT32', 1.5, 'element 0: expected an integer for INT32, got 1.5'],
    ['UINT8', '1', 'element 0: expected an integer for UINT8, got string "1"'],
    ['INT64', true, 'element 0: expected an integer for INT64, got boolean true'],
    ['INT16', null, 'element 0: expected an integer for INT16, got null'],
    ['INT8', { a: 1 }, 'element 0: expected an integer for INT8, got an object'],
    ['BOOL', 1, 'element 0: expected a boolean for BOOL, got number 1'],
    ['BOOL', 'true', 'element 0: expected a boolean for BOOL, got string "true"'],
    ['FP32', '1.0', 'element 0: expected a number for FP32, got string "1.0"'],
    ['FP32', Number.NaN, 'element 0: expected a finite number for FP32, got NaN'],
    ['FP64', Infinity, 'element 0: expected a finite number for FP64, got Infinity'],
    ['FP16', false, 'element 0: expected a number for FP16, got boolean false'],
    ['BYTES', 5, 'element 0: expected a string for BYTES, got number 5'],
    ['BYTES', undefined, 'element 0: expected a string for BYTES, got undefined'],
  ])('%s refuses %j', (datatype, value, message) => {
    expect(encodeError(datatype, [value])).toEqual({ reason: 'type', index: 0, message });
  });

  it('shortens long strings in messages', () => {
    expect(encodeError('FP32', ['x'.repeat(100)]).message).toBe(`element 0: expected a number for FP32, got string "${'x'.repeat(40)}"...`);
  });
});

describe('encodeJsonData: float ranges', () => {
  it.each<[Datatype, number, string]>([
    ['FP16', 65520, 'element 0: 65520 is out of range for FP16 (max +-65504)'],
    ['FP16', -70000, 'element 0: -70000 is out of range for FP16 (max +-65504)'],
    ['BF16', 3.4e38, 'element 0: 3.4e+38 is out of range for BF16 (max +-3.3895313892515355e+38)'],
    ['FP32', 3.4028236e38, 'element 0: 3.4028236e+38 is out of range for FP32 (max +-3.4028234663852886e+38)'],
    ['FP32', -1e39, 'element 0: -1e+39 is out of range for FP32 (max +-3.4028234663852886e+38)'],
  ])('%s refuses %d', (datatype, value, message) => {
    expect(encodeError(datatype, [value])).toEqual({ reason: 'range', index: 0, message });
  });

  it.each<[Datatype, number]>([
    ['FP16', 65519],
    ['BF16', 3.3895313892515355e38],
    ['FP32', 3.4028234663852886e38],
    ['FP64', Number.MAX_VALUE],
    ['FP16', 1e-10], // underflows to 0: rounding, not an error
  ])('%s accepts %d', (datatype, value) => {
    expect(encodeJsonData(datatype, [value], 1, 1).ok).toBe(true);
  });
});

describe('encodeJsonData: count and depth', () => {
  it('reports the element count before any element', () => {
    expect(encodeJsonData('FP32', new Array<unknown>(63).fill('bad'), 64, 1)).toEqual({
      ok: false,
      error: { reason: 'count', message: 'expected 64 elements, got 63' },
    });
  });

  it('reports nesting beyond maxDepth', () => {
    expect(encodeJsonData('FP32', [[[1]]], 1, 2)).toEqual({
      ok: false,
      error: { reason: 'depth', message: 'data is nested more than 2 levels deep' },
    });
  });

  it('names the flat index of a bad element in nested data', () => {
    expect(encodeError('UINT8', [[1, 2], [3, -4]]).message).toBe('element 3: -4 is out of range for UINT8 (0..255)');
  });
});
