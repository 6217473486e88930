/**
 * Walks a request's `data` (flat or nested arrays, row-major): counts its leaf elements within a
 * nesting limit, and lists them. Lenient on nesting (it need not follow the shape, as with
 * Triton), strict on the count.
 *
 * Depth counts arrays: `[1, 2]` has depth 1, `[[1], [2]]` depth 2, and a bare scalar (accepted as
 * one element) depth 0. The walks are iterative, so deep input cannot overflow the stack.
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/** Number of leaf elements in `data`; fails as soon as nesting goes beyond `maxDepth`. */
export function countJsonElements(data: unknown, maxDepth: number): Result<number, TensorDataError> {
  if (!Array.isArray(data)) return ok(1);
  if (maxDepth < 1) return err(depthError(maxDepth));
  let count = 0;
  const within = forEachRun(
    data,
    (_run, start, end) => {
      count += end - start;
    },
    maxDepth,
  );
  return within ? ok(count) : err(depthError(maxDepth));
}

/** Checks that `data` holds exactly `expectedCount` elements within `maxDepth`. */
export function checkJsonElementCount(
  data: unknown,
  expectedCount: number,
  maxDepth: number,
): Result<void, TensorDataError> {
  const counted = countJsonElements(data, maxDepth);
  if (!counted.ok) return counted;
  if (counted.value !== expectedCount) {
    return err(tensorDataError('count', `expected ${expectedCount} elements, got ${counted.value}`));
  }
  return ok(undefined);
}

/**
 * The leaves of `data` in row-major order, after checkJsonElementCount. A flat array is returned
 * as is (no copy).
 */
export function flattenJsonData(
  data: unknown,
  expectedCount: number,
  maxDepth: number,
): Result<readonly unknown[], TensorDataError> {
  const checked = checkJsonElementCount(data, expectedCount, maxDepth);
  if (!checked.ok) return checked;
  if (!Array.isArray(data)) return ok([data]);
  if (data.length === expectedCount && !containsArray(data)) return ok(data);
  const leaves: unknown[] = [];
  forEachRun(data, (run, start, end) => {
    for (let i = start; i < end; i++) leaves.push(run[i]);
  });
  return ok(leaves);
}

/**
 * Calls `visit` for each maximal run of consecutive non-array elements, in row-major order:
 * `run[start..end)` are leaves. Stops when `visit` returns true. Returns false (and stops) when
 * arrays nest `maxDepth` deep or more below `root`'s own level; true otherwise.
 */
export function forEachRun(
  root: readonly unknown[],
  visit: (run: readonly unknown[], start: number, end: number) => boolean | void,
  maxDepth = Number.POSITIVE_INFINITY,
): boolean {
  const parents: (readonly unknown[])[] = [];
  const parentPositions: number[] = [];
  let current = root;
  let position = 0;
  for (;;) {
    const start = position;
    while (position < current.length && !Array.isArray(current[position])) position++;
    if (position > start && visit(current, start, position) === true) return true;
    const child = current[position];
    if (Array.isArray(child)) {
      if (parents.length + 1 >= maxDepth) return false;
      parents.push(current);
      parentPositions.push(position + 1);
      current = child;
      position = 0;
      continue;
    }
    const parent = parents.pop();
    const parentPosition = parentPositions.pop();
    if (parent === undefined || parentPosition === undefined) return true;
    current = parent;
    position = parentPosition;
  }
}

function containsArray(items: readonly unknown[]): boolean {
  for (let i = 0; i < items.length; i++) {
    if (Array.isArray(items[i])) return true;
  }
  return false;
}

function depthError(maxDepth: number): TensorDataError {
  return tensorDataError('depth', `data is nested more than ${maxDepth} levels deep`);
}
