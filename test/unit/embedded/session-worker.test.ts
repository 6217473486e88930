// A session worker (one ONNX Runtime session in a thread of its own): it loads, runs jobs in order,
// leaves the caller's bytes alone (a pooled Buffer cannot be transferred, a view of a larger body must
// not be detached), answers the runs sent before release, and release is safe to call twice.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTensor } from '../../../gateway/backends/backend.ts';
import { parseModelConfig } from '../../../gateway/backends/embedded/model-config.ts';
import type { RunJob } from '../../../gateway/backends/embedded/session-worker-protocol.ts';
import { SessionWorker } from '../../../gateway/backends/embedded/session-worker.ts';
import { MODEL_REPOSITORY, copyRepository, digitPixels, failure } from './embedded-support.ts';

const SETTINGS = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const MODEL = join(MODEL_REPOSITORY, 'digits', '2', 'model.onnx');
const config = parseModelConfig(readFileSync(join(MODEL_REPOSITORY, 'digits', 'config.pbtxt'), 'utf8'), 'digits');

function job(pixels: Uint8Array, rows: number): RunJob {
  return {
    model: 'digits',
    version: '2',
    batchSize: rows,
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [rows, 64], data: pixels }],
    outputs: config.outputs,
    classifications: {},
    maxOutputBytes: 1 << 20,
  };
}

const shapes = (outputs: readonly RawTensor[]) => outputs.map((output) => [output.name, output.shape]);

describe('SessionWorker', () => {
  let worker: SessionWorker;
  beforeAll(async () => {
    const started = await SessionWorker.start(MODEL, SETTINGS);
    worker = started.worker;
    expect(started.metadata.inputs.map((input) => input.name)).toEqual(['pixels']);
  });
  afterAll(async () => {
    await worker.release();
  });

  it('runs a job and leaves a view of a larger buffer, and a pooled Buffer, usable by the caller', async () => {
    const body = new Uint8Array(16 + 64 * 4 * 2);
    body.set(new Uint8Array(digitPixels(2).buffer), 16);
    const view = body.subarray(16);
    expect(shapes(await worker.run(job(view, 2)))).toEqual([['probabilities', [2, 10]], ['label', [2, 1]]]);
    expect(body.byteLength).toBe(16 + 512);
    expect(view[4]).toBe(body[20]);

    const pooled = Buffer.from(new Uint8Array(digitPixels(1).buffer));
    expect(shapes(await worker.run(job(pooled, 1)))).toEqual([['probabilities', [1, 10]], ['label', [1, 1]]]);
    expect(pooled.byteLength).toBe(256);
  });

  it("answers each job with its own rows, in the order sent, and reports a run's failure as a GatewayError", async () => {
    const answers = await Promise.all([1, 5, 3].map((rows) => worker.run(job(new Uint8Array(digitPixels(rows).buffer), rows))));
    expect(answers.map((outputs) => outputs[0]?.shape[0])).toEqual([1, 5, 3]);
    const broken = { ...job(new Uint8Array(12), 1), inputs: [{ name: 'pixels', datatype: 'FP32' as const, shape: [1, 64], data: new Uint8Array(12) }] };
    expect((await failure(worker.run(broken))).code).toBe('BACKEND_REJECTED');
  });
});

describe('SessionWorker lifecycle', () => {
  it('release answers the runs sent before it, is safe to call twice, and refuses runs after it', async () => {
    const { worker } = await SessionWorker.start(MODEL, SETTINGS);
    const running = worker.run(job(new Uint8Array(digitPixels(64).buffer), 64));
    const released = [worker.release(), worker.release()];
    expect(shapes(await running)).toEqual([['probabilities', [64, 10]], ['label', [64, 1]]]);
    await Promise.all(released);
    const after = await failure(worker.run(job(new Uint8Array(digitPixels(1).buffer), 1)));
    expect(after).toMatchObject({ code: 'MODEL_NOT_READY', message: expect.stringContaining('released') });
  });

  it("a file onnxruntime cannot load rejects with onnxruntime's reason", async () => {
    const repository = copyRepository();
    try {
      const path = join(repository.root, 'digits', '2', 'model.onnx');
      writeFileSync(path, 'not an onnx model');
      await expect(SessionWorker.start(path, SETTINGS)).rejects.toThrow(/protobuf|parse|load/i);
    } finally {
      repository.remove();
    }
  });
});
