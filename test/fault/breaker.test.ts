// The circuit breaker: link failures (UNAVAILABLE, deadlines) open it; then requests fail fast with 503
// and Retry-After without reaching Triton; half-open probing closes it again once Triton heals. A
// request Triton rejects as invalid never counts against the link.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTriton } from '../support/fake-triton.ts';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import { errorOf, readinessOf } from '../support/responses.ts';
import type { TestGateway } from '../support/gateway-harness.ts';

let triton: FakeTriton;
let gateway: TestGateway;

beforeEach(async () => {
  triton = new FakeTriton();
  await triton.start();
  // The poller also probes through the breaker; slow it down so these tests count only their own calls.
  gateway = await startTestGateway(triton.address, { READINESS_POLL_INTERVAL_MS: '60000', REQUEST_TIMEOUT_MS: '300' });
});

afterEach(async () => {
  await gateway.close();
  await triton.stop();
});

function infer(headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gateway.url}/v2/models/fake_digits/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Sends failing requests until the breaker opens (successes in the rolling window dilute the rate). */
async function tripBreaker(fault: { code: number; details: string }, maxAttempts = 12): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < maxAttempts && gateway.gateway.backend.linkState() !== 'open'; i++) {
    triton.inferFaults.push(fault);
    statuses.push((await infer()).status);
  }
  triton.inferFaults.length = 0;
  expect(gateway.gateway.backend.linkState()).toBe('open');
  return statuses;
}

describe('circuit breaker', () => {
  it('opens on UNAVAILABLE; then answers 503 + Retry-After at once without calling Triton', async () => {
    expect((await infer()).status).toBe(200); // warms the metadata cache
    const statuses = await tripBreaker({ code: GrpcStatus.UNAVAILABLE, details: 'connection reset' });
    expect(new Set(statuses)).toEqual(new Set([503]));

    const callsBefore = triton.count('ModelInfer');
    const started = performance.now();
    const rejected = await infer();
    const elapsedMs = performance.now() - started;
    expect(rejected.status).toBe(503);
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await errorOf(rejected)).toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(triton.count('ModelInfer')).toBe(callsBefore);
    // Fast, not hung: far below the request timeout (300 ms) even on a loaded machine.
    expect(elapsedMs).toBeLessThan(250);

    const ready = await fetch(`${gateway.url}/ready`);
    expect(ready.status).toBe(503);
    expect((await readinessOf(ready)).reasons).toContain('circuit breaker to triton is open');
    expect(await (await fetch(`${gateway.url}/metrics`)).text()).toMatch(/^gateway_breaker_state 2$/m);
  });

  it('goes half-open after the reset timeout and closes when Triton has healed', async () => {
    expect((await infer()).status).toBe(200);
    await tripBreaker({ code: GrpcStatus.UNAVAILABLE, details: 'down' });

    await eventually(() => gateway.gateway.backend.linkState() === 'half-open', 3000);
    const probe = await infer();
    expect(probe.status).toBe(200);
    expect(gateway.gateway.backend.linkState()).toBe('closed');
    expect((await infer()).status).toBe(200);
  });

  it('reopens when the half-open probe fails', async () => {
    expect((await infer()).status).toBe(200);
    await tripBreaker({ code: GrpcStatus.UNAVAILABLE, details: 'down' });
    triton.inferFaults.push({ code: GrpcStatus.UNAVAILABLE, details: 'still down' });
    await eventually(() => gateway.gateway.backend.linkState() === 'half-open', 3000);
    expect((await infer()).status).toBe(503);
    expect(gateway.gateway.backend.linkState()).toBe('open');
  });

  it('counts deadline overruns: 504 to the client, and the breaker opens', async () => {
    expect((await infer()).status).toBe(200);
    triton.inferDelayMs = 1000;
    for (let i = 0; i < 12 && gateway.gateway.backend.linkState() !== 'open'; i++) {
      const response = await infer();
      expect(response.status).toBe(504);
      expect(await errorOf(response)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    }
    expect(gateway.gateway.backend.linkState()).toBe('open');
  });

  it('does not count deadlines a client chose itself: an impatient client cannot open it for everyone', async () => {
    expect((await infer()).status).toBe(200);
    triton.inferDelayMs = 200;
    for (let i = 0; i < 10; i++) expect((await infer({ 'x-request-timeout-ms': '20' })).status).toBe(504);
    expect(gateway.gateway.backend.linkState()).toBe('closed');
  });

  it('stays open when the half-open probe is abandoned by its client while Triton still hangs', async () => {
    expect((await infer()).status).toBe(200);
    await tripBreaker({ code: GrpcStatus.UNAVAILABLE, details: 'down' });
    await eventually(() => gateway.gateway.backend.linkState() === 'half-open', 3000);
    triton.inferDelayMs = 1000;
    const client = new AbortController();
    const probe = infer({}, client.signal).catch(() => 'aborted');
    await eventually(() => triton.inferRequests.length > 0 && triton.inferDelayMs > 0 && triton.count('ModelInfer') > 0);
    setTimeout(() => client.abort(), 50);
    expect(await probe).toBe('aborted');
    await eventually(() => gateway.gateway.backend.linkState() !== 'half-open', 3000);
    expect(gateway.gateway.backend.linkState()).toBe('open');
  });

  it('maps INVALID_ARGUMENT to 400 and never opens the breaker', async () => {
    expect((await infer()).status).toBe(200);
    for (let i = 0; i < 10; i++) triton.inferFaults.push({ code: GrpcStatus.INVALID_ARGUMENT, details: 'inference request batch-size must be <= 8' });
    for (let i = 0; i < 10; i++) {
      const response = await infer();
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatchObject({ code: 'BACKEND_REJECTED', error: expect.stringContaining('batch-size must be <= 8') });
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
  });

  it.each([
    [GrpcStatus.NOT_FOUND, 404, 'MODEL_NOT_FOUND'],
    [GrpcStatus.INTERNAL, 502, 'BACKEND_ERROR'],
    [GrpcStatus.UNAVAILABLE, 503, 'BACKEND_UNAVAILABLE'],
    [GrpcStatus.UNIMPLEMENTED, 501, 'BACKEND_UNSUPPORTED'],
  ])('maps gRPC status %i from Triton to HTTP %i', async (grpcCode, httpStatus, code) => {
    expect((await infer()).status).toBe(200);
    triton.inferFaults.push({ code: grpcCode, details: 'injected' });
    const response = await infer();
    expect(response.status).toBe(httpStatus);
    expect(await errorOf(response)).toMatchObject({ code });
  });

  it('treats a model-level UNAVAILABLE (version not ready) as the model, not the link', async () => {
    expect((await infer()).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      triton.inferFaults.push({ code: GrpcStatus.UNAVAILABLE, details: "Request for unknown model: 'fake_digits' version 2 is not at ready state" });
    }
    for (let i = 0; i < 5; i++) {
      const response = await infer();
      expect(response.status).toBe(503);
      expect(await errorOf(response)).toMatchObject({ code: 'MODEL_NOT_READY' });
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
  });
});

describe('a model Triton knows but has no loaded version of', () => {
  it('is 503 MODEL_NOT_READY (temporary), not 404, and does not move the breaker', async () => {
    expect((await infer()).status).toBe(200);
    for (let i = 0; i < 6; i++) triton.inferFaults.push({ code: GrpcStatus.NOT_FOUND, details: "Request for unknown model: 'fake_digits' has no available versions" });
    for (let i = 0; i < 6; i++) {
      const response = await infer();
      expect(response.status).toBe(503);
      expect(await errorOf(response)).toMatchObject({ code: 'MODEL_NOT_READY' });
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
  });
});
