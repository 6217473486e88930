// The circuit breaker: link failures (UNAVAILABLE, deadlines) open it; then requests fail fast with 503
// and Retry-After without reaching Triton; half-open probing closes it again once Triton heals. A
// request Triton rejects as invalid never counts against the link.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTriton } from '../support/fake-triton.ts';
import { blockEventLoop, eventually, startTestGateway } from '../support/gateway-harness.ts';
import { metricValue } from '../support/infer-load.ts';
import { errorOf, readinessOf } from '../support/responses.ts';
import type { TestGateway } from '../support/gateway-harness.ts';

let triton: FakeTriton;
let gateway: TestGateway;
/** A readiness question with nothing seen of the models: only Triton's own ServerReady answer decides. */
const NO_EVIDENCE = { index: [], served: [], servedReady: false, wasReady: false } as const;

beforeEach(async () => {
  triton = new FakeTriton();
  await triton.start();
  // The poller also probes through the breaker; slow it down so these tests count only their own calls.
  gateway = await startTestGateway(triton.address, { READINESS_POLL_INTERVAL_MS: '60000', REQUEST_TIMEOUT_MS: '300' });
  // Warms the metadata cache and the code paths: on a loaded machine a cold first request can miss 300 ms.
  await eventually(async () => (await infer()).status === 200, 5000);
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

function inferText(): Promise<Response> {
  return fetch(`${gateway.url}/v2/models/fake_text/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['a'] }] }),
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
    [GrpcStatus.INTERNAL, 502, 'MODEL_ERROR'],
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

describe('only the link counts', () => {
  it('a burst of INTERNAL answers from the model (its own data) never opens it: 502 MODEL_ERROR each, /ready stays true', async () => {
    expect((await infer()).status).toBe(200);
    for (let i = 0; i < 12; i++) triton.inferFaults.push({ code: GrpcStatus.INTERNAL, details: "Failed to process the request(s) for model 'fake_digits_0_0', message: ValueError: told to fail" });
    for (let i = 0; i < 12; i++) {
      const response = await infer();
      expect(response.status).toBe(502);
      expect(await errorOf(response)).toMatchObject({ code: 'MODEL_ERROR', error: expect.stringContaining('told to fail') });
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
    expect((await infer()).status).toBe(200);
  });

  it("grpc-js's own transport failures that surface as INTERNAL (RST_STREAM) still count", async () => {
    expect((await infer()).status).toBe(200);
    const statuses = await tripBreaker({ code: GrpcStatus.INTERNAL, details: 'Received RST_STREAM with code 2 triggered by internal client error: Protocol error' });
    expect(new Set(statuses)).toEqual(new Set([502]));
  });

  it('a Triton that is gone (no connection) opens it; no answer or /ready names its address', async () => {
    expect((await infer()).status).toBe(200);
    const port = String(triton.port);
    await triton.stop();
    const bodies: string[] = [];
    for (let i = 0; i < 12 && gateway.gateway.backend.linkState() !== 'open'; i++) {
      const response = await infer();
      expect(response.status).toBe(503);
      bodies.push(await response.text());
    }
    expect(gateway.gateway.backend.linkState()).toBe('open');
    await gateway.gateway.monitor.pollNow();
    const ready = await fetch(`${gateway.url}/ready`);
    expect(ready.status).toBe(503);
    bodies.push(await ready.text(), await (await infer()).text());
    for (const body of bodies) {
      expect(body).not.toContain(port);
      expect(body).not.toMatch(/127\.0\.0\.1|remote_addr|Last error/);
    }
    expect(bodies.at(-2)).toMatch(/triton unreachable/);
  });

  it('a hung model while other models keep answering does not open it for every model', async () => {
    expect((await infer()).status).toBe(200);
    triton.inferDelayMsByModel.set('fake_digits', 1000);
    for (let i = 0; i < 5; i++) {
      // Four calls to the hung model for every one answered: over the error threshold if they counted.
      const answers = Promise.all([infer(), infer(), infer(), infer()]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await inferText()).status).toBe(200);
      expect((await answers).map((answer) => answer.status)).toEqual([504, 504, 504, 504]);
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
  });

  it('a busy model (some of its calls miss their deadline while others of it are answered) does not open it', async () => {
    expect((await infer()).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      triton.inferDelays.push(1000, 1000, 1000);
      // Started apart, so that the micro-batcher sends each as its own call: three stuck calls per answered one.
      const stuck: Promise<Response>[] = [];
      for (let j = 0; j < 3; j++) {
        stuck.push(infer());
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      expect((await infer()).status).toBe(200);
      expect((await Promise.all(stuck)).map((answer) => answer.status)).toEqual([504, 504, 504]);
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
  });

  it('every model hung while Triton still answers health calls opens it: a health answer proves no model works', async () => {
    expect((await infer()).status).toBe(200);
    triton.inferDelayMs = 1000;
    for (let i = 0; i < 5 && gateway.gateway.backend.linkState() !== 'open'; i++) {
      // Started apart, so that the micro-batcher sends each as its own call: three hung calls per health answer.
      const answers: Promise<Response>[] = [];
      for (let j = 0; j < 3; j++) {
        answers.push(infer());
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      expect(await gateway.gateway.backend.serverReadiness(NO_EVIDENCE, { deadline: Date.now() + 1000 })).toEqual({ ready: true });
      for (const answer of await Promise.all(answers)) expect([503, 504]).toContain(answer.status);
    }
    expect(gateway.gateway.backend.linkState()).toBe('open');
  });
});

describe("deadlines missed while the gateway's own event loop lagged", () => {
  it('are not counted against the link, and the metric says how many were excused', async () => {
    expect((await infer()).status).toBe(200);
    // The fake runs in this process: reading its delay blocks the loop while the gateway's call is in flight.
    Object.defineProperty(triton, 'inferDelayMs', { get: () => (blockEventLoop(450), 0), configurable: true });
    for (let i = 0; i < 8; i++) {
      const response = await infer();
      expect(response.status).toBe(504);
      expect(await errorOf(response)).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    }
    expect(gateway.gateway.backend.linkState()).toBe('closed');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metricValue(metrics, 'gateway_deadlines_excused_total', { rpc: 'ModelInfer' })).toBe(8);
    expect(metricValue(metrics, 'gateway_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0.4);
  });

  it('a half-open probe that missed its deadline while the loop was blocked proves nothing: the breaker stays open', async () => {
    expect((await infer()).status).toBe(200);
    await tripBreaker({ code: GrpcStatus.UNAVAILABLE, details: 'down' });
    await eventually(() => gateway.gateway.backend.linkState() === 'half-open', 3000);
    Object.defineProperty(triton, 'inferDelayMs', { get: () => (blockEventLoop(450), 0), configurable: true });
    expect((await infer()).status).toBe(504);
    expect(gateway.gateway.backend.linkState()).toBe('open');
  });

  it('a readiness poll that missed its deadline while the loop was blocked does not mark Triton unreachable', async () => {
    await gateway.close();
    gateway = await startTestGateway(triton.address, { READINESS_POLL_INTERVAL_MS: '60000', TRITON_CONTROL_TIMEOUT_MS: '300' });
    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
    Object.defineProperty(triton, 'serverReady', { get: () => (blockEventLoop(450), true), configurable: true });
    await gateway.gateway.monitor.pollNow();
    const ready = await fetch(`${gateway.url}/ready`);
    expect({ status: ready.status, reasons: (await readinessOf(ready)).reasons }).toEqual({ status: 200, reasons: [] });
    expect(metricValue(await (await fetch(`${gateway.url}/metrics`)).text(), 'gateway_deadlines_excused_total', { rpc: 'ServerReady' })).toBe(1);
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
