/**
 * Shape arithmetic for tensors: element counts, overflow-checked products, and matching a request's
 * shape against a model's (where -1 means any size).
 */

import { err, ok } from '../result.ts';
import type { Result } from '../result.ts';
import { tensorDataError } from './tensor-data-error.ts';
import type { TensorDataError } from './tensor-data-error.ts';

/** Wildcard dimension in a model's shape: matches any size. */
export const ANY_SIZE = -1;

/**
 * Product of the dimensions; `[]` (a scalar) has one element. Trusts the shape: use
 * `checkedElementCount` on shapes that came from a client.
 */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/**
 * `a * b` for safe integers, or undefined when the exact product is not a safe integer
 * (|product| > Number.MAX_SAFE_INTEGER). Rounding is monotonic, so a product that is exact
 * stays safe and one that is not lands at or beyond 2^53.
 */
export function checkedMultiply(a: number, b: number): number | undefined {
  const product = a * b;
  return Number.isSafeInteger(product) ? product : undefined;
}

/**
 * The element count of a client's shape: every dimension must be a non-negative safe integer and
 * the product must stay a safe integer. A zero dimension gives 0 whatever the others are.
 */
export function checkedElementCount(shape: readonly number[]): Result<number, TensorDataError> {
  let count = 1;
  let overflow = false;
  for (let i = 0; i < shape.length; i++) {
    const dim = shape[i];
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      return err(tensorDataError('shape', `shape ${formatShape(shape)}: dimension ${i} must be a non-negative integer`));
    }
    const next = checkedMultiply(count, dim);
    if (next === undefined) overflow = true;
    else count = next;
  }
  if (count === 0) return ok(0);
  if (overflow) {
    return err(tensorDataError('shape', `shape ${formatShape(shape)} has more than ${Number.MAX_SAFE_INTEGER} elements`));
  }
  return ok(count);
}

/**
 * Whether a concrete shape fits an expected one: same rank, each dimension equal or expected -1.
 * `actual` is assumed validated (no -1 of its own).
 */
export function shapeMatches(actual: readonly number[], expected: readonly number[]): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    if (want !== ANY_SIZE && want !== actual[i]) return false;
  }
  return true;
}

/** `[1,3,224,224]`, the form used in error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
