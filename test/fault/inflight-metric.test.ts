// gateway_inflight_requests, the load signal the HorizontalPodAutoscaler of k8s/ scales on: it counts the
// requests being worked on when /metrics is scraped (not the scrape itself, nor probes answered before
// it), and nothing once they are answered. The fault server holds each inference for a fixed time, long
// enough for the scrapes on a loaded machine, so the requests are surely in flight meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/gateway-harness.ts';
import { useFakeTritonGateway } from '../support/fake-triton-gateway.ts';

const IN_FLIGHT = 3;
const HOLD_MS = 3000;

const fixture = useFakeTritonGateway({ BATCHING: 'off', REQUEST_TIMEOUT_MS: String(HOLD_MS * 3) });

async function inFlightGauge(): Promise<number> {
  const text = await (await fetch(`${fixture.gateway.url}/metrics`)).text();
  const match = /^gateway_inflight_requests (\d+)$/m.exec(text);
  if (match?.[1] === undefined) throw new Error(`no gateway_inflight_requests in /metrics:\n${text.slice(0, 500)}`);
  return Number(match[1]);
}

describe('gateway_inflight_requests', () => {
  beforeAll(() => {
    fixture.triton.inferDelayMs = HOLD_MS;
  });
  afterAll(() => {
    fixture.triton.inferDelayMs = 0;
  });

  it('counts requests being served, not the scrape or a probe, and falls back to 0', async () => {
    expect(await inFlightGauge()).toBe(0);
    const requests = Array.from({ length: IN_FLIGHT }, (_, i) =>
      fetch(`${fixture.gateway.url}/v2/models/fake_digits/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [i, i, i, i] }] }),
      }),
    );
    await eventually(async () => (await inFlightGauge()) === IN_FLIGHT, HOLD_MS / 2);
    await fetch(`${fixture.gateway.url}/ready`);
    expect(await inFlightGauge()).toBe(IN_FLIGHT);
    const statuses = (await Promise.all(requests)).map((response) => response.status);
    expect(statuses).toEqual(Array(IN_FLIGHT).fill(200));
    expect(await inFlightGauge()).toBe(0);
  });
});
