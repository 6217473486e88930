// A hung model against a REAL tritonserver (its digits twin sleeps longer than the request deadline in
// every request, so its instance stays busy): while another model keeps answering, the hung model's
// deadlines are that model's and the breaker stays closed for everyone; when nothing but the hung
// model is asked, Triton's answers to the readiness polls (ServerReady, ModelReady, every 400 ms here,
// so one answers during every hung call) prove nothing about inference, and the breaker opens. Those
// answers also count as successes in the breaker's rate, hence its threshold of 25% here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { metricValue } from '../support/infer-load.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';

const real = useRealTriton({
  twin: { models: { digits: [2], text_topic: [1] }, behaviour: { 'digits/2': { inferDelayMs: 1500 } } },
  server: { modelControl: 'explicit', loadModels: ['digits', 'text_topic'] },
});
let gateway: TestGateway | undefined;

beforeAll(async () => {
  gateway = await startTestGateway(real.triton.grpcAddress, {
    SERVED_MODELS: 'digits,text_topic',
    REQUEST_TIMEOUT_MS: '500',
    READINESS_POLL_INTERVAL_MS: '400',
    BREAKER_ERROR_THRESHOLD_PERCENT: '25',
    // The first test's answers leave the window before the second test counts.
    BREAKER_ROLLING_WINDOW_MS: '2000',
  });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
});

const DIGITS = { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, index) => index % 12) }] };
const TEXT = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['The goalkeeper saved a penalty'] }] };

function infer(model: string, body: unknown): Promise<number> {
  const { url } = need(gateway);
  return fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((response) => response.status);
}

/** Calls to the hung model, started apart so that each is a call of its own. */
async function hungCalls(count: number, alongside: () => Promise<number[]>): Promise<{ hung: number[]; other: number[] }> {
  const hung: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    hung.push(infer('digits', DIGITS));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const other = await alongside();
  return { hung: await Promise.all(hung), other };
}

/** How many times the breaker has opened. */
async function opened(): Promise<number> {
  return metricValue(await (await fetch(`${need(gateway).url}/metrics`)).text(), 'gateway_breaker_transitions_total', { to: 'open' });
}

function need(value: TestGateway | undefined): TestGateway {
  if (value === undefined) throw new Error('gateway not started');
  return value;
}

describe('a hung model (real Triton)', () => {
  it('while another model answers: 504 for the hung one, 200 for the other, the breaker stays closed', async () => {
    expect(await infer('text_topic', TEXT)).toBe(200);
    for (let round = 0; round < 4; round++) {
      const { hung, other } = await hungCalls(3, async () => [await infer('text_topic', TEXT), await infer('text_topic', TEXT)]);
      expect(hung).toEqual([504, 504, 504]);
      expect(other).toEqual([200, 200]);
    }
    expect(need(gateway).gateway.backend.linkState()).toBe('closed');
    expect(await opened()).toBe(0);
  });

  it('while only health and readiness calls answer: the breaker opens', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // The harness's reset timeout is short: the breaker may be half-open again by the time it is looked at.
    for (let round = 0; round < 6 && (await opened()) === 0; round++) {
      const { hung } = await hungCalls(8, async () => []);
      for (const status of hung) expect([503, 504]).toContain(status);
    }
    expect(await opened()).toBe(1);
  });
});
