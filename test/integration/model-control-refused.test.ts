// Model control that Triton refuses for good: a REAL tritonserver in poll mode does not allow explicit
// load or unload. Retrying cannot help, so the gateway answers 501 BACKEND_UNSUPPORTED without
// Retry-After (not a 503 that tells clients to retry), says why, changes nothing, and neither the
// breaker nor readiness move however often an operator's script tries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import { errorOf, readinessOf } from '../support/responses.ts';

const ADMIN_TOKEN = 'model-control-refused-token-0123456789';
const ATTEMPTS = 8;

const real = useRealTriton({ twin: { models: { digits: [2] } }, server: { modelControl: 'poll' } });
let gateway: TestGateway | undefined;

beforeAll(async () => {
  gateway = await startTestGateway(real.triton.grpcAddress, { ADMIN_TOKEN });
  const { url } = gateway;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
}, 30_000);

afterAll(async () => {
  await gateway?.close();
});

describe('model control refused by Triton in poll mode', () => {
  it.each(['load', 'unload'] as const)('%s: 501 BACKEND_UNSUPPORTED without Retry-After, every time; breaker and /ready unmoved', async (action) => {
    if (gateway === undefined) throw new Error('gateway not started');
    const answers: string[] = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const response = await fetch(`${gateway.url}/v2/repository/models/digits/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: '{}',
      });
      const retryAfter = response.headers.get('retry-after');
      const error = await errorOf(response);
      answers.push(`${response.status} ${error.code} retry-after=${retryAfter ?? 'none'} ${error.error}`);
      expect(response.status, answers.join('\n')).toBe(501);
      expect(error.code).toBe('BACKEND_UNSUPPORTED');
      expect(retryAfter).toBeNull();
      expect(error.error).toMatch(/poll/);
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
    const ready = await fetch(`${gateway.url}/ready`);
    expect({ status: ready.status, reasons: (await readinessOf(ready)).reasons }).toEqual({ status: 200, reasons: [] });
    const served = await fetch(`${gateway.url}/v2/models/digits/ready`);
    expect(served.status).toBe(200);
  });
});
