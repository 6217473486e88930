// A model that fails on some requests' own data must not take the gateway out for everyone: against a
// REAL tritonserver whose digits twin fails every request holding the value 13 (Triton answers that
// request alone with the model's error, gRPC INTERNAL), a burst of such requests in parallel with good
// requests of other clients (same model, batched together with them, and another model): the failing
// ones get 502 MODEL_ERROR naming the failure, every good one 200, the breaker stays closed and /ready
// stays true throughout. And no answer or /ready ever shows Triton's address: neither with Triton
// unreachable from the start, nor once it is stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { metricValue } from '../support/infer-load.ts';
import { freePorts } from '../support/real-triton/free-port.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import { notReady, readinessStory, sampleReadiness } from '../support/readiness-sampler.ts';
import { errorOf } from '../support/responses.ts';

const POISON = 13;
/**
 * Waves of parallel requests, one wave after the other: in each, the poisoned requests are interleaved
 * with good ones of the same model (so the gateway batches them together) and of another model. Far more
 * than the harness's BREAKER_VOLUME_THRESHOLD (3), and over its error threshold if they counted.
 */
const WAVES = 6;
const WAVE: readonly ('bad' | 'good' | 'text')[] = ['bad', 'good', 'bad', 'bad', 'good', 'bad', 'text', 'good', 'bad'];
/** Then poisoned requests one after the other, as a client retrying its bad request would send them. */
const RETRIES = 16;
const TEXT_REQUEST = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['The goalkeeper saved a penalty in the last minute'] }] };

const real = useRealTriton({
  twin: { models: { digits: [2], text_topic: [1] }, behaviour: { 'digits/2': { failOnValue: POISON } } },
  server: { modelControl: 'explicit', loadModels: ['digits', 'text_topic'] },
});
let gateway: TestGateway | undefined;

beforeAll(async () => {
  // The README's poll interval (the harness polls so often that its successes would hide a breaker that
  // counts the model's failures).
  gateway = await startTestGateway(real.triton.grpcAddress, { SERVED_MODELS: 'digits,text_topic', READINESS_POLL_INTERVAL_MS: '2000' });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
});

function digits(poisoned: boolean): unknown {
  // 0..11 only: never the poison unless asked.
  const pixels = Array.from({ length: 64 }, (_, index) => index % 12);
  if (poisoned) pixels[17] = POISON;
  return { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels }] };
}

function infer(url: string, model: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function need(value: TestGateway | undefined): TestGateway {
  if (value === undefined) throw new Error('gateway not started');
  return value;
}

/** Neither the address nor the port of Triton, nor grpc-js's words about the connection. */
function expectNoInternals(body: string, address: string): void {
  const port = address.slice(address.lastIndexOf(':') + 1);
  expect(body).not.toContain(address);
  expect(body).not.toContain(port);
  expect(body).not.toMatch(/127\.0\.0\.1|remote_addr|Last error|ECONNREFUSED|No connection established/);
}

describe('a model failing on some requests\' own data (real Triton)', () => {
  it('fails only those requests (502 MODEL_ERROR); every other request is served, the breaker stays closed and /ready true', async () => {
    const { url } = need(gateway);
    expect((await infer(url, 'digits', digits(false))).status).toBe(200);
    const sampler = sampleReadiness(`${url}/ready`);
    const badAnswers: Response[] = [];
    const goodAnswers: Response[] = [];
    for (let wave = 0; wave < WAVES; wave++) {
      const answers = await Promise.all(WAVE.map((kind) => (kind === 'text' ? infer(url, 'text_topic', TEXT_REQUEST) : infer(url, 'digits', digits(kind === 'bad')))));
      WAVE.forEach((kind, index) => (kind === 'bad' ? badAnswers : goodAnswers).push(answers[index] as Response));
    }
    for (let retry = 0; retry < RETRIES; retry++) badAnswers.push(await infer(url, 'digits', digits(true)));
    // One more round after the burst: the breaker would be open now if the burst had counted.
    goodAnswers.push(...(await Promise.all([infer(url, 'digits', digits(false)), infer(url, 'text_topic', TEXT_REQUEST)])));
    await sampler.stop();

    const badBodies = await Promise.all(badAnswers.map(async (response) => ({ status: response.status, body: await errorOf(response) })));
    for (const answer of badBodies) {
      expect(answer.status, JSON.stringify(answer)).toBe(502);
      expect(answer.body.code).toBe('MODEL_ERROR');
      expect(answer.body.error).toContain(`holds ${POISON}`);
    }
    const goodStatuses = await Promise.all(goodAnswers.map(async (response) => (response.status === 200 ? '200' : `${response.status} ${await response.text()}`)));
    expect(goodStatuses).toEqual(Array(goodStatuses.length).fill('200'));
    expect(need(gateway).gateway.backend.linkState()).toBe('closed');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(metrics, 'gateway_breaker_transitions_total', { to: 'open' })).toBe(0);
    expect(sampler.samples.length).toBeGreaterThan(0);
    expect(notReady(sampler.samples), readinessStory(sampler.samples)).toEqual([]);
  });
});

describe('no answer shows where Triton is', () => {
  it('Triton unreachable from the start: 503 and /ready name the failure, not the address', async () => {
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${String(port)}`;
    const lonely = await startTestGateway(address);
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await infer(lonely.url, 'digits', digits(false));
        expect(response.status).toBe(503);
        bodies.push(await response.text());
      }
      const ready = await fetch(`${lonely.url}/ready`);
      expect(ready.status).toBe(503);
      const readyBody = await ready.text();
      expect(readyBody).toMatch(/triton unreachable/);
      for (const body of [...bodies, readyBody]) expectNoInternals(body, address);
    } finally {
      await lonely.close();
    }
  });

  it('Triton stopped under a running gateway: the same', async () => {
    const { url } = need(gateway);
    const address = real.triton.grpcAddress;
    await real.triton.stop();
    await need(gateway).gateway.monitor.pollNow();
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await infer(url, 'digits', digits(false));
      expect(response.status).toBeGreaterThanOrEqual(500);
      bodies.push(await response.text());
    }
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    bodies.push(await ready.text(), await (await fetch(`${url}/v2/models/digits`)).text());
    for (const body of bodies) expectNoInternals(body, address);
  });
});
