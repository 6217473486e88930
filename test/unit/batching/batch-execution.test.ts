// runBatch's retries after a failed batch: which failures split the batch, and how many calls a model
// that fails every request costs (each retry re-sends requests to the model).
import { describe, expect, it } from 'vitest';
import type { Backend, InferRequest, InferResult, RawTensor } from '../../../gateway/backends/backend.ts';
import { runBatch } from '../../../gateway/batching/batch-execution.ts';
import { BatchMember } from '../../../gateway/batching/batch-member.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import type { ErrorCode } from '../../../gateway/errors.ts';

/** One row of one FP32 value: `value`. */
function row(value: number): RawTensor {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setFloat32(0, value, true);
  return { name: 'x', datatype: 'FP32', shape: [1, 1], data };
}

function valuesOf(tensor: RawTensor): number[] {
  const view = new DataView(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  return Array.from({ length: tensor.data.byteLength / 4 }, (_, index) => view.getFloat32(index * 4, true));
}

/** A backend that echoes its input, or fails the whole call with `failure(values)`'s code. */
function backendFailing(failure: (values: number[]) => ErrorCode | undefined): { backend: Backend; calls: number[][] } {
  const calls: number[][] = [];
  const backend = {
    infer(request: InferRequest): Promise<InferResult> {
      const input = request.inputs[0];
      if (input === undefined) throw new Error('no input');
      const values = valuesOf(input);
      calls.push(values);
      const code = failure(values);
      if (code !== undefined) return Promise.reject(new GatewayError(code, `failed on ${values.length} rows`));
      return Promise.resolve({ model: request.model, version: '1', outputs: [{ ...input, name: 'y' }] });
    },
  } as unknown as Backend;
  return { backend, calls };
}

function members(count: number): BatchMember[] {
  return Array.from({ length: count }, (_, index) => {
    const request: InferRequest = { model: 'm', version: '', inputs: [row(index)], outputs: [] };
    return new BatchMember(request, { deadline: Date.now() + 10_000, batchSize: 1, maxBatchSize: count }, Date.now());
  });
}

async function outcomes(batch: readonly BatchMember[]): Promise<string[]> {
  return Promise.all(batch.map((member) => member.promise.then(() => 'ok', (error: unknown) => (error as GatewayError).code)));
}

describe('runBatch after a failed batch', () => {
  it('a model that fails every request: a batch of 64 costs at most 64+3 calls and 3 sends a request, not 127 and 7', async () => {
    const { backend, calls } = backendFailing(() => 'MODEL_ERROR');
    const batch = members(64);
    await runBatch(backend, batch, 'b');
    expect(await outcomes(batch)).toEqual(Array.from({ length: 64 }, () => 'MODEL_ERROR'));
    expect(calls.length).toBeLessThanOrEqual(64 + 3);
    const sends = new Map<number, number>();
    for (const call of calls) for (const value of call) sends.set(value, (sends.get(value) ?? 0) + 1);
    expect(Math.max(...sends.values())).toBeLessThanOrEqual(3);
  });

  it('a request that already failed alone is not sent again: a failing batch of 2 costs 3 calls, 2 sends each', async () => {
    for (const [size, maxCalls] of [[2, 3], [3, 5]] as const) {
      const { backend, calls } = backendFailing(() => 'MODEL_ERROR');
      const batch = members(size);
      await runBatch(backend, batch, 'b');
      expect(await outcomes(batch)).toEqual(Array.from({ length: size }, () => 'MODEL_ERROR'));
      expect(calls.length, `batch of ${size}: ${JSON.stringify(calls)}`).toBeLessThanOrEqual(maxCalls);
    }
  });

  it('guilty requests on both sides of the batch fail alone; every other request gets its rows', async () => {
    const { backend } = backendFailing((values) => (values.includes(1) || values.includes(6) ? 'MODEL_ERROR' : undefined));
    const batch = members(8);
    await runBatch(backend, batch, 'b');
    expect(await outcomes(batch)).toEqual(['ok', 'MODEL_ERROR', 'ok', 'ok', 'ok', 'ok', 'MODEL_ERROR', 'ok']);
  });

  it('one request the model fails on fails alone; the others get their rows', async () => {
    const { backend, calls } = backendFailing((values) => (values.includes(5) ? 'MODEL_ERROR' : undefined));
    const batch = members(16);
    await runBatch(backend, batch, 'b');
    expect(await outcomes(batch)).toEqual(Array.from({ length: 16 }, (_, index) => (index === 5 ? 'MODEL_ERROR' : 'ok')));
    expect(calls.length).toBeLessThanOrEqual(1 + 2 * Math.log2(16));
  });

  it("a batch over the embedded output cap is split: each request is judged on its own rows, not the batch's", async () => {
    // The cap allows 4 rows: one request alone is fine, five batched are over it.
    const { backend } = backendFailing((values) => (values.length > 4 ? 'TOO_LARGE_TENSOR' : undefined));
    const batch = members(5);
    await runBatch(backend, batch, 'b');
    expect(await outcomes(batch)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('a request over the cap on its own still gets TOO_LARGE_TENSOR', async () => {
    const { backend } = backendFailing((values) => (values.includes(2) ? 'TOO_LARGE_TENSOR' : undefined));
    const batch = members(4);
    await runBatch(backend, batch, 'b');
    expect(await outcomes(batch)).toEqual(['ok', 'ok', 'TOO_LARGE_TENSOR', 'ok']);
  });
});
