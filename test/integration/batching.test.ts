// The micro-batcher against the real Triton: 64 concurrent clients with distinct images each get their
// own correct answer, and the gateway really sent batches of more than one row (read from its metrics,
// not from timing).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { metricValue } from '../support/infer-load.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import type { ReferenceOutputs } from '../support/real-triton/reference-infer.ts';
import { inferBodyOf } from '../support/responses.ts';

const CLIENTS = 64;
const ROUNDS = 3;
const FP32_TOLERANCE = 1e-5;
const digits = JSON.parse(readFileSync(new URL('../fixtures/digits-sample.json', import.meta.url), 'utf8')) as { images: number[][] };
const images = digits.images.slice(0, CLIENTS);

const fixture = useRealTriton({ twin: { models: { digits: [2] } }, server: { modelControl: 'none' } });
let gateway: TestGateway | undefined;
let reference: ReferenceOutputs;

beforeAll(async () => {
  reference = await referenceInfer({ model: 'digits', version: '2', inputs: { pixels: { shape: [CLIENTS, 64], data: images.flat() } } });
  // The default settings: requests gather while the link is busy, with no fixed window to make them meet.
  gateway = await startTestGateway(fixture.triton.grpcAddress, { REQUEST_TIMEOUT_MS: '10000' });
  const url = gateway.url;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
});

describe('micro-batching with a real Triton', () => {
  it('gives each of 64 concurrent clients its own answer, in batches of more than one row', async () => {
    const url = gateway?.url ?? '';
    const client = async (index: number): Promise<void> => {
      const image = images[index] ?? [];
      for (let round = 0; round < ROUNDS; round++) {
        const response = await fetch(`${url}/v2/models/digits/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: `client-${index}-${round}`, inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: image }] }),
        });
        expect(response.status, `client ${index}`).toBe(200);
        const body = await inferBodyOf(response);
        expect(body.id).toBe(`client-${index}-${round}`);
        expect(body.model_version).toBe('2');
        const label = body.outputs.find((output) => output.name === 'label');
        const probabilities = body.outputs.find((output) => output.name === 'probabilities');
        expect(label?.shape).toEqual([1, 1]);
        expect(label?.data).toEqual([reference['label']?.data[index]]);
        expect(probabilities?.shape).toEqual([1, 10]);
        const expected = (reference['probabilities']?.data ?? []).slice(index * 10, index * 10 + 10) as number[];
        (probabilities?.data as number[]).forEach((value, k) => expect(Math.abs(value - (expected[k] ?? Number.NaN))).toBeLessThanOrEqual(FP32_TOLERANCE));
      }
    };
    await Promise.all(images.map((_, index) => client(index)));

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const batches = metricValue(metrics, 'gateway_batch_rows_count', { model: 'digits' });
    const singleRow = metricValue(metrics, 'gateway_batch_rows_bucket', { model: 'digits', le: '1' });
    const rows = metricValue(metrics, 'gateway_batch_rows_sum', { model: 'digits' });
    expect(rows).toBe(CLIENTS * ROUNDS);
    expect(batches).toBeGreaterThan(0);
    // Fewer batches than requests, and some batch carried more than one row.
    expect(batches).toBeLessThan(CLIENTS * ROUNDS);
    expect(batches - singleRow).toBeGreaterThan(0);
    // Every batch has its reason; the first went at once to an idle link, the multi-row ones gathered.
    const byReason = Object.fromEntries(['link_idle', 'slot_freed', 'full', 'window', 'deadline', 'shutdown'].map((reason) => [reason, metricValue(metrics, 'gateway_batches_total', { model: 'digits', reason })]));
    expect(Object.values(byReason).reduce((sum, count) => sum + count, 0)).toBe(batches);
    expect(byReason['link_idle']).toBeGreaterThan(0);
    expect((byReason['slot_freed'] ?? 0) + (byReason['full'] ?? 0) + (byReason['window'] ?? 0)).toBeGreaterThan(0);
  });
});
