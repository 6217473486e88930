import { describe, expect, it } from 'vitest';
import { nestsWithin } from '../../../gateway/http/json-scan.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('nestsWithin', () => {
  it.each([
    ['{}', 1, true],
    ['{"a":[1,[2]]}', 3, true],
    ['{"a":[1,[2]]}', 2, false],
    ['"[[[[[["', 1, true],
    ['{"a":"\\"[[[["}', 1, true],
    ['[' .repeat(1_000_000), 64, false],
  ])('%s within %i -> %s', (text, depth, expected) => {
    expect(nestsWithin(bytes(text), depth)).toBe(expected);
  });
});
