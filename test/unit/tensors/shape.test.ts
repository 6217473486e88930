import { describe, expect, it } from 'vitest';
import {
  checkedElementCount,
  checkedMultiply,
  elementCount,
  formatShape,
  shapeMatches,
} from '../../../gateway/tensors/shape.ts';

describe('elementCount', () => {
  it.each<[number[], number]>([
    [[], 1],
    [[5], 5],
    [[2, 3, 4], 24],
    [[1, 3, 224, 224], 150528],
    [[4, 0, 7], 0],
  ])('elementCount(%j) = %d', (shape, count) => {
    expect(elementCount(shape)).toBe(count);
    expect(checkedElementCount(shape)).toEqual({ ok: true, value: count });
  });
});

describe('checkedMultiply', () => {
  it.each<[number, number, number | undefined]>([
    [3, 4, 12],
    [0, Number.MAX_SAFE_INTEGER, 0],
    [Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER],
    [2 ** 26, 2 ** 26, 2 ** 52],
    [2 ** 27, 2 ** 26, undefined],
    [Number.MAX_SAFE_INTEGER, 2, undefined],
    [3002399751580331, 3, undefined], // exact product 2^53 + 1
  ])('checkedMultiply(%d, %d) = %s', (a, b, product) => {
    expect(checkedMultiply(a, b)).toBe(product);
  });
});

describe('checkedElementCount', () => {
  it('reports a product past Number.MAX_SAFE_INTEGER', () => {
    const result = checkedElementCount([2 ** 30, 2 ** 30, 2 ** 30]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.reason).toBe('shape');
      expect(result.error.message).toBe(`shape [1073741824,1073741824,1073741824] has more than ${Number.MAX_SAFE_INTEGER} elements`);
    }
  });

  it('a zero dimension wins over an overflow', () => {
    expect(checkedElementCount([2 ** 40, 2 ** 40, 0])).toEqual({ ok: true, value: 0 });
  });

  it.each<[number[], number]>([
    [[2, -1], 1],
    [[1.5], 0],
    [[3, 4, Number.NaN], 2],
    [[2 ** 53], 0],
  ])('rejects %j at dimension %d', (shape, dim) => {
    const result = checkedElementCount(shape);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toBe(`shape ${formatShape(shape)}: dimension ${dim} must be a non-negative integer`);
  });
});

describe('shapeMatches', () => {
  it.each<[number[], number[], boolean]>([
    [[], [], true],
    [[1, 3], [1, 3], true],
    [[8, 3], [-1, 3], true],
    [[8, 0], [-1, -1], true],
    [[8, 4], [-1, 3], false],
    [[3], [3, 1], false],
    [[3, 1], [3], false],
    [[], [-1], false],
  ])('%j against %j: %s', (actual, expected, matches) => {
    expect(shapeMatches(actual, expected)).toBe(matches);
  });

  it('formats shapes compactly', () => {
    expect(formatShape([1, 3, 224, 224])).toBe('[1,3,224,224]');
    expect(formatShape([])).toBe('[]');
  });
});
