// The error catalogue: codes are unique, statuses are errors, fixed messages come from it, and the
// README's error table is the one rendered from it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, errorTable, fixedError, GatewayError } from '../../gateway/errors.ts';
import { README_PATH, readmeErrorTable } from '../../scripts/readme-errors.ts';

describe('error catalogue', () => {
  const codes = Object.keys(ERROR_CATALOGUE);

  it('has unique codes with 4xx/5xx statuses', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const { status } of Object.values(ERROR_CATALOGUE)) expect(status).toBeGreaterThanOrEqual(400);
  });

  it("is the README's error table, code for code (`npm run docs:errors` rewrites it)", () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readmeErrorTable(readme), "README.md's error table differs from gateway/errors.ts: run `npm run docs:errors`").toBe(errorTable());
  });

  it('gives 503s a Retry-After by default and keeps 0 when asked', () => {
    expect(new GatewayError('BACKEND_UNAVAILABLE', 'x').retryAfterSeconds).toBe(1);
    expect(new GatewayError('CIRCUIT_OPEN', 'x', { retryAfterSeconds: 0 }).retryAfterSeconds).toBe(0);
    expect(new GatewayError('INVALID_INPUT', 'x').retryAfterSeconds).toBeUndefined();
  });

  it('builds the errors of fixed messages with their message and status', () => {
    const internal = fixedError('INTERNAL');
    expect([internal.code, internal.status, internal.message]).toEqual(['INTERNAL', 500, ERROR_CATALOGUE.INTERNAL.message]);
    expect(internal.retryAfterSeconds).toBeUndefined();
  });
});
