// The embedded backend against the REAL model repository (no polling): what it says about the models,
// inference on both models, and every error as the layers above expect it from Triton.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTensor } from '../../../gateway/backends/backend.ts';
import { EmbeddedBackend } from '../../../gateway/backends/embedded/embedded-backend.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';
import { createMetrics } from '../../../gateway/observability/metrics.ts';
import type { ErrorCode } from '../../../gateway/errors.ts';
import {
  MODEL_REPOSITORY,
  callOptions,
  digitsRequest,
  failure,
  float32Of,
  int64Of,
  outputNamed,
  startBackend,
  stringsOf,
  textRequest,
} from './embedded-support.ts';

let backend: EmbeddedBackend;
const metrics = createMetrics({ collectProcessMetrics: false });

beforeAll(async () => {
  backend = await startBackend({ repository: MODEL_REPOSITORY, metrics });
});

afterAll(async () => {
  await backend.close();
});

async function code(promise: Promise<unknown>): Promise<ErrorCode> {
  return (await failure(promise)).code;
}

describe('what the embedded backend says about the repository', () => {
  it('is ready once started, and names itself', async () => {
    expect(await backend.serverReadiness()).toEqual({ ready: true });
    expect(await backend.serverMetadata(callOptions())).toEqual({ name: 'triton-gateway-embedded', version: '0.1.0', extensions: ['model_repository', 'binary_tensor_data'] });
    expect(backend.linkState()).toBe('closed');
    expect(backend.description).toContain(MODEL_REPOSITORY);
  });

  it('reports digits like Triton: [-1] + dims, label [-1, 1] (dims, not the reshape), only version 2 under latest(1)', async () => {
    expect(await backend.modelMetadata('digits', '', callOptions())).toEqual({
      name: 'digits',
      versions: ['2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 64] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
        { name: 'label', datatype: 'INT64', shape: [-1, 1] },
      ],
    });
    expect((await backend.modelMetadata('digits', '2', callOptions())).versions).toEqual(['2']);
  });

  it('reports text_topic with BYTES tensors and its dims as they are (max_batch_size 0)', async () => {
    expect(await backend.modelMetadata('text_topic', '', callOptions())).toEqual({
      name: 'text_topic',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1, 1] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
  });

  it('answers the parsed config with max_batch_size and the name filled in', async () => {
    expect(await backend.modelConfig('digits', '', callOptions())).toMatchObject({ name: 'digits', max_batch_size: 64, backend: 'onnxruntime' });
    expect(await backend.modelConfig('text_topic', '1', callOptions())).toMatchObject({ name: 'text_topic', max_batch_size: 0 });
  });

  it('indexes every loaded version, READY, and filters on readyOnly', async () => {
    const expected = [
      { name: 'digits', version: '2', state: 'READY', reason: '' },
      { name: 'text_topic', version: '1', state: 'READY', reason: '' },
    ];
    expect(await backend.repositoryIndex(false, callOptions())).toEqual(expected);
    expect(await backend.repositoryIndex(true, callOptions())).toEqual(expected);
  });

  it('says which models and versions are ready', async () => {
    expect(await backend.modelReady('digits', '', callOptions())).toBe(true);
    expect(await backend.modelReady('digits', '2', callOptions())).toBe(true);
    expect(await code(backend.modelReady('digits', '1', callOptions()))).toBe('MODEL_NOT_FOUND');
  });

  it('answers MODEL_NOT_FOUND, not "not ready", when asked whether an unknown model or version is ready', async () => {
    expect(await code(backend.modelReady('nope', '', callOptions()))).toBe('MODEL_NOT_FOUND');
    expect(await code(backend.modelReady('digits', '9', callOptions()))).toBe('MODEL_NOT_FOUND');
  });

  it('answers MODEL_NOT_FOUND for an unknown model, and for a version the policy did not load', async () => {
    const unknownModel = await failure(backend.modelMetadata('nope', '', callOptions()));
    expect([unknownModel.code, unknownModel.status, unknownModel.message]).toEqual(['MODEL_NOT_FOUND', 404, "Request for unknown model: 'nope' is not found"]);
    const unknownVersion = await failure(backend.modelMetadata('digits', '1', callOptions()));
    expect([unknownVersion.code, unknownVersion.message]).toEqual(['MODEL_NOT_FOUND', "Request for unknown model: 'digits' version 1 is not found"]);
    expect(await code(backend.modelConfig('digits', '7', callOptions()))).toBe('MODEL_NOT_FOUND');
    expect(await code(backend.infer(digitsRequest(1, '1'), callOptions()))).toBe('MODEL_NOT_FOUND');
    expect(await code(backend.infer({ ...digitsRequest(1), model: 'nope' }, callOptions()))).toBe('MODEL_NOT_FOUND');
  });
});

describe('inference', () => {
  it('runs a batch of 3 digits: probabilities [3, 10] with rows summing to 1, label [3, 1] = argmax, served by version 2', async () => {
    const result = await backend.infer(digitsRequest(3), callOptions());
    expect(result.model).toBe('digits');
    expect(result.version).toBe('2');
    expect(result.outputs.map((o: RawTensor) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [3, 10]],
      ['label', 'INT64', [3, 1]],
    ]);
    const probabilities = float32Of(outputNamed(result.outputs, 'probabilities'));
    const labels = int64Of(outputNamed(result.outputs, 'label'));
    expect(labels.length).toBe(3);
    for (let row = 0; row < 3; row++) {
      const values = Array.from(probabilities.subarray(row * 10, row * 10 + 10));
      expect(values.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 4);
      expect(Number(labels[row])).toBe(values.indexOf(Math.max(...values)));
    }
  });

  it('computes only the requested outputs, in the order asked', async () => {
    const result = await backend.infer(digitsRequest(2, '2', ['label']), callOptions());
    expect(result.outputs.map((o) => [o.name, o.shape])).toEqual([['label', [2, 1]]]);
  });

  it('gives the same answer for a row alone as inside a batch', async () => {
    const batch = float32Of(outputNamed((await backend.infer(digitsRequest(4), callOptions())).outputs, 'probabilities'));
    const single = float32Of(outputNamed((await backend.infer(digitsRequest(1), callOptions())).outputs, 'probabilities'));
    Array.from(single).forEach((value, i) => expect(batch[i]).toBeCloseTo(value, 6));
  });

  it('runs text_topic with BYTES in and out, shapes as ONNX Runtime gives them (no batching)', async () => {
    const result = await backend.infer(textRequest(['The goalkeeper saved a penalty in the final minute', 'Bake the bread for an hour', 'ünïcödé ✓']), callOptions());
    expect(result.version).toBe('1');
    expect(result.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['label', 'BYTES', [3]],
      ['probabilities', 'FP32', [3, 3]],
    ]);
    const labels = stringsOf(outputNamed(result.outputs, 'label'));
    expect(labels.slice(0, 2)).toEqual(['sports', 'food']);
    expect(['food', 'sports', 'technology']).toContain(labels[2]);
  });

  it('rejects what Triton rejects as INVALID_ARGUMENT with BACKEND_REJECTED (400)', async () => {
    const wrongShape = await failure(backend.infer({ ...digitsRequest(1), inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 63], data: new Uint8Array(252) }] }, callOptions()));
    expect([wrongShape.code, wrongShape.status]).toEqual(['BACKEND_REJECTED', 400]);
    expect(wrongShape.message).toMatch(/unexpected shape for input 'pixels'/);
    expect(await code(backend.infer(digitsRequest(65), callOptions()))).toBe('BACKEND_REJECTED');
    expect(await code(backend.infer(digitsRequest(1, '', ['nope']), callOptions()))).toBe('BACKEND_REJECTED');
    // Zero sentences pass the config's dims but fail inside the graph (StringNormalizer): the input's fault.
    const empty = await failure(backend.infer(textRequest([]), callOptions()));
    expect([empty.code, empty.message]).toEqual(['BACKEND_REJECTED', expect.stringMatching(/StringNormalizer/)]);
  });

  it('refuses a BYTES element with a NUL byte (ORT string tensors would silently cut it there)', async () => {
    const nul = await failure(backend.infer(textRequest(['fine', 'nul\u0000inside a sentence about football']), callOptions()));
    expect([nul.code, nul.status, nul.message]).toEqual(['BACKEND_REJECTED', 400, expect.stringMatching(/element 1 contains a NUL byte/)]);
  });

  it('refuses a request whose deadline already passed (DEADLINE_EXCEEDED) or whose caller left (REQUEST_CANCELLED)', async () => {
    expect(await code(backend.infer(digitsRequest(1), { deadline: Date.now() - 1 }))).toBe('DEADLINE_EXCEEDED');
    const controller = new AbortController();
    controller.abort();
    expect(await code(backend.infer(digitsRequest(1), { deadline: Date.now() + 5_000, signal: controller.signal }))).toBe('REQUEST_CANCELLED');
  });

  it('drops a request whose caller left after it was accepted, before its run', async () => {
    const controller = new AbortController();
    const pending = backend.infer(digitsRequest(1), { deadline: Date.now() + 5_000, signal: controller.signal });
    controller.abort(); // after the first check; seen when its turn in the run queue comes
    expect(await code(pending)).toBe('REQUEST_CANCELLED');
  });

  it('counts each run as an embedded ModelInfer call by its outcome: OK or the error code it answered', async () => {
    // One run of each outcome here, so the test does not read what the tests above left in the registry.
    await backend.infer(digitsRequest(1), callOptions());
    await failure(backend.infer(digitsRequest(65), callOptions()));
    await failure(backend.infer(digitsRequest(1, '1'), callOptions()));
    await failure(backend.infer(digitsRequest(1), { deadline: Date.now() - 1 }));
    const text = await metrics.registry.getSingleMetricAsString('gateway_backend_calls_total');
    for (const outcome of ['OK', 'BACKEND_REJECTED', 'MODEL_NOT_FOUND', 'DEADLINE_EXCEEDED']) {
      expect(text).toMatch(new RegExp(`backend="embedded",method="ModelInfer",outcome="${outcome}"\\} [1-9]`));
    }
    expect(text).not.toMatch(/backend="triton"/);
  });
});

describe('explicit model control and closing', () => {
  it('unloads a model (every version UNAVAILABLE "unloaded", MODEL_NOT_READY) and loads it again', async () => {
    const own = await startBackend({ repository: MODEL_REPOSITORY });
    try {
      await own.unloadModel('digits', callOptions());
      expect(await own.repositoryIndex(false, callOptions())).toContainEqual({ name: 'digits', version: '2', state: 'UNAVAILABLE', reason: 'unloaded' });
      expect(await own.repositoryIndex(true, callOptions())).toEqual([{ name: 'text_topic', version: '1', state: 'READY', reason: '' }]);
      expect(await own.modelReady('digits', '', callOptions())).toBe(false);
      expect(await code(own.infer(digitsRequest(1), callOptions()))).toBe('MODEL_NOT_READY');
      expect(await code(own.infer(digitsRequest(1, '2'), callOptions()))).toBe('MODEL_NOT_READY');
      expect(await code(own.modelMetadata('digits', '', callOptions()))).toBe('MODEL_NOT_READY');
      await own.loadModel('digits', callOptions());
      expect((await own.infer(digitsRequest(1), callOptions())).version).toBe('2');
      expect(await code(own.loadModel('nope', callOptions()))).toBe('MODEL_NOT_FOUND');
      expect(await code(own.loadModel('../digits', callOptions()))).toBe('MODEL_NOT_FOUND');
      expect(await code(own.unloadModel('nope', callOptions()))).toBe('MODEL_NOT_FOUND');
    } finally {
      await own.close();
    }
  });

  it('closes idempotently: not ready, SHUTTING_DOWN afterwards', async () => {
    const own = await startBackend({ repository: MODEL_REPOSITORY });
    await Promise.all([own.close(), own.close()]);
    await own.close();
    expect(await own.serverReadiness()).toEqual({ ready: false, reason: 'embedded backend closed' });
    expect(await own.modelReady('digits', '', callOptions())).toBe(false);
    expect(await code(own.infer(digitsRequest(1), callOptions()))).toBe('SHUTTING_DOWN');
    expect(await code(own.modelMetadata('digits', '', callOptions()))).toBe('SHUTTING_DOWN');
  });

  it('answers BACKEND_UNAVAILABLE (503) before start() has loaded the repository', async () => {
    const own = new EmbeddedBackend({ repository: MODEL_REPOSITORY, pollIntervalMs: 0, logger: createLogger('silent') });
    try {
      expect(await own.serverReadiness()).toEqual({ ready: false, reason: 'embedded backend still loading the model repository' });
      expect(await code(own.infer(digitsRequest(1), callOptions()))).toBe('BACKEND_UNAVAILABLE');
      expect(await code(own.modelMetadata('digits', '', callOptions()))).toBe('BACKEND_UNAVAILABLE');
      await own.start();
      expect((await own.infer(digitsRequest(1), callOptions())).version).toBe('2');
    } finally {
      await own.close();
    }
  });

  it('refuses to start on a repository that does not exist', async () => {
    await expect(startBackend({ repository: '/nonexistent/model_repository' })).rejects.toThrow(/ENOENT/);
  });
});
