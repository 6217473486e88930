import { describe, expect, it } from 'vitest';
import { countJsonElements, flattenJsonData, forEachRun } from '../../../gateway/tensors/json-flatten.ts';

describe('flattenJsonData', () => {
  it('returns a flat array of the right length as is, without copying', () => {
    const data = [1, 2, 3];
    const result = flattenJsonData(data, 3, 1);
    expect(result.ok && result.value).toBe(data);
  });

  it.each<[string, unknown, number, unknown[]]>([
    ['nested row-major', [[1, 2, 3], [4, 5, 6]], 6, [1, 2, 3, 4, 5, 6]],
    ['deeply nested', [[[1], [2]], [[3], [4]]], 4, [1, 2, 3, 4]],
    ['ragged nesting (lenient, count is what matters)', [1, [2, 3], [[4]]], 4, [1, 2, 3, 4]],
    ['empty tensor', [], 0, []],
    ['empty nested tensor', [[], []], 0, []],
    ['a bare scalar is one element', 7, 1, [7]],
    ['as many top-level items as leaves, one an empty array', [[], [1, 2]], 2, [1, 2]],
  ])('%s', (_, data, count, leaves) => {
    expect(flattenJsonData(data, count, 8)).toEqual({ ok: true, value: leaves });
  });

  it('walks a top-level array of the right length that holds an array', () => {
    expect(flattenJsonData([[1, 2], 3], 2, 8)).toEqual({
      ok: false,
      error: { reason: 'count', message: 'expected 2 elements, got 3' },
    });
  });

  it.each<[string, unknown, number, string]>([
    ['too few', [1, 2, 3], 4, 'expected 4 elements, got 3'],
    ['too many', [1, 2, 3], 2, 'expected 2 elements, got 3'],
    ['too many nested: counts them all', [[1, 2], [3, 4], [5, 6]], 4, 'expected 4 elements, got 6'],
    ['scalar for a larger tensor', 5, 3, 'expected 3 elements, got 1'],
    ['empty data for one element', [], 1, 'expected 1 elements, got 0'],
  ])('count mismatch: %s', (_, data, count, message) => {
    expect(flattenJsonData(data, count, 8)).toEqual({ ok: false, error: { reason: 'count', message } });
  });

  it.each<[unknown, number, boolean]>([
    [[1, 2], 1, true],
    [[[1, 2]], 2, true],
    [[[1, 2]], 1, false],
    [[[[1]]], 2, false],
    [[1], 0, false],
    [5, 0, true],
  ])('depth of %j within %d: %s', (data, maxDepth, fits) => {
    const result = flattenJsonData(data, Array.isArray(data) ? data.flat(Infinity).length : 1, maxDepth);
    if (fits) expect(result.ok).toBe(true);
    else expect(result).toEqual({ ok: false, error: { reason: 'depth', message: `data is nested more than ${maxDepth} levels deep` } });
  });

  it('walks very deep nesting without recursion when the limit allows it', () => {
    let data: unknown = [1];
    for (let i = 0; i < 100_000; i++) data = [data];
    expect(flattenJsonData(data, 1, 200_000)).toEqual({ ok: true, value: [1] });
    expect(flattenJsonData(data, 1, 64).ok).toBe(false);
  });
});

describe('countJsonElements and forEachRun', () => {
  it.each<[unknown, number]>([
    [[], 0],
    [3, 1],
    [[1, [2, [3, [4]]], 5], 5],
    [[[[]]], 0],
  ])('%j has %d elements', (data, count) => {
    expect(countJsonElements(data, 10)).toEqual({ ok: true, value: count });
  });

  it('visits maximal runs of leaves in row-major order', () => {
    const runs: unknown[][] = [];
    forEachRun([1, 2, [3, [4, 5]], [], 6], (run, start, end) => {
      runs.push(run.slice(start, end));
    });
    expect(runs).toEqual([[1, 2], [3], [4, 5], [6]]);
  });

  it('stops when the visitor returns true', () => {
    let visits = 0;
    forEachRun([[1], [2], [3]], () => {
      visits++;
      return visits === 2;
    });
    expect(visits).toBe(2);
  });
});
