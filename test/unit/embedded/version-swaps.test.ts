// Poll mode on a temp copy of the real repository: versions and models added, removed, broken, changed,
// with requests in flight; the way Triton's poll mode behaves. Real timers, bounded waits.
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RepositoryEntry } from '../../../gateway/backends/backend.ts';
import type { EmbeddedBackend } from '../../../gateway/backends/embedded/embedded-backend.ts';
import { ModelRepository } from '../../../gateway/backends/embedded/model-repository.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import type { CapturedLogger } from './embedded-support.ts';
import { callOptions, capturingLogger, copyRepository, digitPixels, digitsRequest, float32Of, outputNamed, startBackend, textRequest, waitFor } from './embedded-support.ts';

const POLL_MS = 25;

let repository: ReturnType<typeof copyRepository>;
let logs: CapturedLogger;
let backend: EmbeddedBackend;

beforeEach(async () => {
  repository = copyRepository();
  logs = capturingLogger();
  backend = await startBackend({ repository: repository.root, pollIntervalMs: POLL_MS, logger: logs.logger });
});

afterEach(async () => {
  await backend.close();
  repository.remove();
});

const digitsDir = (...parts: string[]): string => join(repository.root, 'digits', ...parts);

/** Copies a version directory aside and renames it into place, so a poll never sees half of it. */
function addVersion(version: number, from: number): void {
  const staging = join(repository.root, 'digits', '.staging');
  cpSync(digitsDir(String(from)), staging, { recursive: true });
  renameSync(staging, digitsDir(String(version)));
}

/** Replaces a file atomically (write aside, rename over). */
function replaceFile(path: string, content: Buffer | string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

async function versions(): Promise<readonly string[]> {
  return (await backend.modelMetadata('digits', '', callOptions())).versions;
}

async function index(): Promise<readonly RepositoryEntry[]> {
  return backend.repositoryIndex(false, callOptions());
}

async function entry(model: string, version: string): Promise<RepositoryEntry | undefined> {
  return (await index()).find((e) => e.name === model && e.version === version);
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  return error instanceof GatewayError ? error.code : `no GatewayError: ${String(error)}`;
}

async function probabilities(version = ''): Promise<number[]> {
  return Array.from(float32Of(outputNamed((await backend.infer(digitsRequest(1, version), callOptions())).outputs, 'probabilities')));
}

describe('versions in poll mode', () => {
  it('serves a new version once it is loaded, and the previous one again when the new one is removed', async () => {
    const fromVersion2 = await probabilities();
    addVersion(3, 1);
    await waitFor('version 3 to be the only served version', async () => (await versions()).join() === '3');
    const served = await backend.infer(digitsRequest(2), callOptions());
    expect(served.version).toBe('3');
    expect(await probabilities()).not.toEqual(fromVersion2); // version 3 is a copy of version 1, another model
    await waitFor('version 2 to be unloaded', async () => (await entry('digits', '2'))?.reason === 'unloaded');
    expect(await entry('digits', '2')).toEqual({ name: 'digits', version: '2', state: 'UNAVAILABLE', reason: 'unloaded' });
    expect(await errorCode(backend.infer(digitsRequest(1, '2'), callOptions()))).toBe('MODEL_NOT_READY');

    rmSync(digitsDir('3'), { recursive: true });
    await waitFor('version 2 to serve again', async () => (await versions()).join() === '2');
    expect((await backend.infer(digitsRequest(1), callOptions())).version).toBe('2');
    expect(await probabilities()).toEqual(fromVersion2);
    await waitFor('version 3 to be unloaded', async () => (await entry('digits', '3'))?.reason === 'unloaded');
    expect(await errorCode(backend.infer(digitsRequest(1, '3'), callOptions()))).toBe('MODEL_NOT_READY');
  });

  it('keeps the old version serving when a new one fails to load, shows why, warns once, and loads it once fixed', async () => {
    mkdirSync(digitsDir('4'));
    writeFileSync(digitsDir('4', 'model.onnx'), 'this is not an onnx model');
    const broken = await waitFor('version 4 to fail', async () => {
      const found = await entry('digits', '4');
      return found?.state === 'UNAVAILABLE' ? found : undefined;
    });
    expect(broken.reason).toMatch(/onnxruntime could not load .*digits\/4\/model\.onnx/);
    expect(await versions()).toEqual(['2']);
    expect((await backend.infer(digitsRequest(1), callOptions())).version).toBe('2');
    expect(await backend.modelReady('digits', '4', callOptions())).toBe(false);
    expect(await backend.modelReady('digits', '', callOptions())).toBe(true);
    expect(await errorCode(backend.infer(digitsRequest(1, '4'), callOptions()))).toBe('MODEL_NOT_READY');
    expect(await backend.repositoryIndex(true, callOptions())).toEqual([
      { name: 'digits', version: '2', state: 'READY', reason: '' },
      { name: 'text_topic', version: '1', state: 'READY', reason: '' },
    ]);

    // Several more polls see the same broken file: no new attempt, no new warning.
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 8));
    expect(logs.lines.filter((line) => line.level === 'warn' && line.version === 4)).toHaveLength(1);

    replaceFile(digitsDir('4', 'model.onnx'), readFileSync(digitsDir('1', 'model.onnx')));
    await waitFor('the fixed version 4 to serve', async () => (await versions()).join() === '4');
    expect((await backend.infer(digitsRequest(1), callOptions())).version).toBe('4');
  });

  it('reloads a changed model file in place: the same version, the new session once it is ready', async () => {
    const before = await probabilities('2');
    replaceFile(digitsDir('2', 'model.onnx'), readFileSync(digitsDir('1', 'model.onnx')));
    await waitFor('the new model file to answer', async () => (await probabilities('2')).join() !== before.join());
    expect(await versions()).toEqual(['2']);
    expect(logs.lines.some((line) => line.msg === 'model version reloaded' && line.version === 2)).toBe(true);
    expect(await index()).toContainEqual({ name: 'digits', version: '2', state: 'READY', reason: '' });
  });

  it('leaves the model serving while config.pbtxt is broken, and applies the fixed config (a new policy)', async () => {
    const good = readFileSync(digitsDir('config.pbtxt'), 'utf8');
    replaceFile(digitsDir('config.pbtxt'), `${good}\nmax_batch_size: "sixty four"\n`);
    await waitFor('the config warning', () => logs.lines.some((line) => line.msg === 'model config unusable; the loaded versions keep serving'));
    expect((await backend.infer(digitsRequest(1), callOptions())).version).toBe('2');
    replaceFile(digitsDir('config.pbtxt'), good.replace('version_policy: { latest: { num_versions: 1 } }', 'version_policy: { all: { } }'));
    await waitFor('both versions to serve', async () => (await versions()).join() === '1,2');
    expect((await backend.infer(digitsRequest(1, '1'), callOptions())).version).toBe('1');
    expect((await backend.infer(digitsRequest(1), callOptions())).version).toBe('2');
  });
});

describe('models in poll mode', () => {
  it('loads a new model directory and unloads a removed one', async () => {
    const staging = join(repository.root, '.topics');
    cpSync(join(repository.root, 'text_topic'), staging, { recursive: true });
    writeFileSync(join(staging, 'config.pbtxt'), readFileSync(join(staging, 'config.pbtxt'), 'utf8').replace('name: "text_topic"', 'name: "topics"'));
    renameSync(staging, join(repository.root, 'topics'));
    await waitFor('the new model to be ready', () => backend.modelReady('topics', '', callOptions()));
    const answer = await backend.infer({ ...textRequest(['Bake the bread for an hour']), model: 'topics' }, callOptions());
    expect([answer.model, answer.version]).toEqual(['topics', '1']);

    rmSync(join(repository.root, 'topics'), { recursive: true });
    await waitFor('the removed model to be unknown', async () => (await errorCode(backend.modelMetadata('topics', '', callOptions()))) === 'MODEL_NOT_FOUND');
    expect((await index()).map((e) => e.name)).not.toContain('topics');
    expect(await errorCode(backend.modelReady('topics', '', callOptions()))).toBe('MODEL_NOT_FOUND');
  });

  it('lists a model that cannot load as UNAVAILABLE with the reason, and stays ready itself', async () => {
    mkdirSync(join(repository.root, 'empty'));
    writeFileSync(join(repository.root, 'empty', 'config.pbtxt'), 'input { name: "x" data_type: TYPE_FP32 dims: 1 } output { name: "y" data_type: TYPE_FP32 dims: 1 }');
    // Listed from the scan that finds the directory; the reason once its config and versions were read.
    const listed = await waitFor('the empty model in the index with its reason', async () => {
      const found = await entry('empty', '');
      return found?.reason === '' ? undefined : found;
    });
    expect(listed).toEqual({ name: 'empty', version: '', state: 'UNAVAILABLE', reason: "at least one version must be available under the version policy of model 'empty'" });
    expect(await backend.serverReadiness()).toEqual({ ready: true });
    expect(await backend.modelReady('empty', '', callOptions())).toBe(false);
    expect(await errorCode(backend.modelMetadata('empty', '', callOptions()))).toBe('MODEL_NOT_READY');
  });

  it('does not reload a model unloaded explicitly until it is loaded again', async () => {
    await backend.unloadModel('digits', callOptions());
    addVersion(3, 1);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 6));
    expect(await entry('digits', '3')).toBeUndefined();
    expect(await backend.modelReady('digits', '', callOptions())).toBe(false);
    await backend.loadModel('digits', callOptions());
    expect(await versions()).toEqual(['3']);
  });
});

describe('requests in flight on a removed version', () => {
  it('let the request finish on a version removed while it runs', async () => {
    addVersion(3, 1);
    await waitFor('version 3 to serve', async () => (await versions()).join() === '3');
    const pending = backend.infer(digitsRequest(2, '3'), callOptions()); // counted in on version 3 at once
    rmSync(digitsDir('3'), { recursive: true });
    const answer = await pending;
    expect([answer.version, answer.outputs.map((o) => o.shape)]).toEqual(['3', [[2, 10], [2, 1]]]);
    await waitFor('version 2 to serve again', async () => (await versions()).join() === '2');
  });

  it('keep the removed version UNLOADING, its session alive, until the last request leaves', async () => {
    const own = new ModelRepository({ root: repository.root, pollIntervalMs: 0, settings: { intraOpNumThreads: 1, interOpNumThreads: 1 }, logger: logs.logger });
    await own.start();
    try {
      addVersion(3, 1);
      await own.scan();
      const digits = own.model('digits');
      const held = digits?.serving('3');
      expect(held?.acquire()).toBe(true);

      rmSync(digitsDir('3'), { recursive: true });
      await own.scan();
      expect(own.index(false).filter((e) => e.name === 'digits')).toEqual([
        { name: 'digits', version: '2', state: 'READY', reason: '' },
        { name: 'digits', version: '3', state: 'UNLOADING', reason: '' },
      ]);
      expect(digits?.serving('').version).toBe(2); // new requests go to version 2
      expect(() => digits?.serving('3')).toThrow(/is UNLOADING/);

      const pixels = digitPixels(1);
      const job = {
        model: 'digits',
        version: '3',
        batchSize: 1,
        inputs: [{ name: 'pixels', datatype: 'FP32' as const, shape: [1, 64], data: new Uint8Array(pixels.buffer) }],
        outputs: held?.config.outputs.filter((output) => output.name === 'label') ?? [],
        classifications: {},
        labels: {},
        maxOutputBytes: 1024,
      };
      const result = await held?.run(job, () => undefined);
      expect(result?.map((output) => [output.name, output.shape])).toEqual([['label', [1, 1]]]);
      held?.release();
      await waitFor('version 3 to be unloaded', () => own.index(false).some((e) => e.version === '3' && e.state === 'UNAVAILABLE' && e.reason === 'unloaded'));
    } finally {
      await own.close();
    }
  });
});
