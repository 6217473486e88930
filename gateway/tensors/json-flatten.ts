/**
 * Flattens a request's `data` (flat or nested arrays, row-major) into its leaf elements, checking
 * the nesting depth and the total element count. Lenient on nesting (it need not follow the shape,
 * as with Triton), strict on the count.
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/**
 * The leaves of `data` in order. A flat array of the right length that holds no arrays is returned
 * as is (no copy); nested data is walked iteratively, so deep input cannot overflow the stack.
 * Depth counts arrays: `[1, 2]` has depth 1, `[[1], [2]]` depth 2, and a bare scalar (accepted as
 * one element) depth 0. Too deep fails as soon as it is seen; a count mismatch reports the full count.
 */
export function flattenJsonData(
  data: unknown,
  expectedCount: number,
  maxDepth: number,
): Result<readonly unknown[], TensorDataError> {
  if (!Array.isArray(data)) {
    return expectedCount === 1 ? ok([data]) : err(countError(expectedCount, 1));
  }
  if (maxDepth < 1) return err(depthError(maxDepth));
  if (data.length === expectedCount && !containsArray(data)) return ok(data);
  return flattenNested(data, expectedCount, maxDepth);
}

function containsArray(items: readonly unknown[]): boolean {
  for (let i = 0; i < items.length; i++) {
    if (Array.isArray(items[i])) return true;
  }
  return false;
}

function flattenNested(
  root: readonly unknown[],
  expectedCount: number,
  maxDepth: number,
): Result<readonly unknown[], TensorDataError> {
  const leaves: unknown[] = [];
  let count = 0;
  const parents: (readonly unknown[])[] = [];
  const parentPositions: number[] = [];
  let current = root;
  let position = 0;
  let depth = 1;
  for (;;) {
    if (position < current.length) {
      const item: unknown = current[position++];
      if (Array.isArray(item)) {
        if (depth >= maxDepth) return err(depthError(maxDepth));
        parents.push(current);
        parentPositions.push(position);
        current = item;
        position = 0;
        depth++;
      } else {
        // Past the expected count only counting goes on, to report how many there were.
        if (count < expectedCount) leaves.push(item);
        count++;
      }
      continue;
    }
    const parent = parents.pop();
    const parentPosition = parentPositions.pop();
    if (parent === undefined || parentPosition === undefined) break;
    current = parent;
    position = parentPosition;
    depth--;
  }
  if (count !== expectedCount) return err(countError(expectedCount, count));
  return ok(leaves);
}

function countError(expected: number, actual: number): TensorDataError {
  return tensorDataError('count', `expected ${expected} elements, got ${actual}`);
}

function depthError(maxDepth: number): TensorDataError {
  return tensorDataError('depth', `data is nested more than ${maxDepth} levels deep`);
}
