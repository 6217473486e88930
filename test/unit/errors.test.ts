// The error catalogue: codes are unique, statuses are errors, and every code is documented in the README.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, GatewayError } from '../../gateway/errors.ts';
import { REPO_ROOT } from '../support/gateway-process.ts';

describe('error catalogue', () => {
  const codes = Object.keys(ERROR_CATALOGUE);
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8');

  it('has unique codes with 4xx/5xx statuses', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const { status } of Object.values(ERROR_CATALOGUE)) expect(status).toBeGreaterThanOrEqual(400);
  });

  it.each(codes)('documents %s in the README error table with its status', (code) => {
    const status = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status;
    expect(readme).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
  });

  it('gives 503s a Retry-After by default and keeps 0 when asked', () => {
    expect(new GatewayError('BACKEND_UNAVAILABLE', 'x').retryAfterSeconds).toBe(1);
    expect(new GatewayError('CIRCUIT_OPEN', 'x', { retryAfterSeconds: 0 }).retryAfterSeconds).toBe(0);
    expect(new GatewayError('INVALID_INPUT', 'x').retryAfterSeconds).toBeUndefined();
  });
});
