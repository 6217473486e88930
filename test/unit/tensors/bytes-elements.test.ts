import { describe, expect, it } from 'vitest';
import { countBytesElements, decodeBytesElements, encodeBytesElements } from '../../../gateway/tensors/bytes-elements.ts';
import { fromHex, hex, unaligned } from './hex.ts';

describe('BYTES elements', () => {
  it.each<[string[], string]>([
    [[], ''],
    [[''], '00 00 00 00'],
    [['ab'], '02 00 00 00 61 62'],
    [['a', ''], '01 00 00 00 61 00 00 00 00'],
    [['日本'], '06 00 00 00 e6 97 a5 e6 9c ac'],
    [['\ufeffx'], '04 00 00 00 ef bb bf 78'], // a BOM is data, kept both ways
  ])('%j <-> %s', (strings, bytes) => {
    const encoded = encodeBytesElements(strings);
    expect(encoded.ok && hex(encoded.value)).toBe(bytes);
    expect(countBytesElements(fromHex(bytes))).toEqual({ ok: true, value: strings.length });
    expect(decodeBytesElements(fromHex(bytes))).toEqual({ ok: true, value: strings });
    expect(decodeBytesElements(unaligned(fromHex(bytes)))).toEqual({ ok: true, value: strings });
  });

  it.each([['\ud800'], ['a\udfffb'], ['\udc00\ud800']])('refuses a lone surrogate (%j) instead of turning it into U+FFFD', (text) => {
    const encoded = encodeBytesElements(['ok', text]);
    expect(encoded.ok).toBe(false);
    expect(!encoded.ok && encoded.error).toMatchObject({ index: 1, message: expect.stringMatching(/^element 1: .*surrogate/) });
    // A proper pair is one character, kept.
    expect(encodeBytesElements(['\ud83d\ude00']).ok).toBe(true);
  });

  it('writes a length above 255 little-endian', () => {
    const encoded = encodeBytesElements(['x'.repeat(0x0102)]);
    expect(encoded.ok && hex(encoded.value.subarray(0, 4))).toBe('02 01 00 00');
  });

  it('decodes invalid UTF-8 non-fatally, as U+FFFD', () => {
    expect(decodeBytesElements(fromHex('03 00 00 00 61 ff 62'))).toEqual({ ok: true, value: ['a\ufffdb'] });
  });

  it.each<[string, string, string]>([
    ['a truncated length prefix', '02 00 00 00 61 62 01 00', 'element 1: length prefix at byte 6 is truncated (2 of 4 bytes present)'],
    ['an element past the end', '02 00 00 00 61 62 05 00 00 00 61', 'element 1: length 5 at byte 6 runs past the end of the data (1 bytes left)'],
    ['a huge length', 'ff ff ff ff 00', 'element 0: length 4294967295 at byte 0 runs past the end of the data (1 bytes left)'],
  ])('refuses %s', (_, bytes, message) => {
    const index = Number(/element (\d+)/.exec(message)?.[1]);
    const error = { reason: 'truncated', index, message };
    expect(countBytesElements(fromHex(bytes))).toEqual({ ok: false, error });
    expect(decodeBytesElements(fromHex(bytes))).toEqual({ ok: false, error });
  });
});
