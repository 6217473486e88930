// Reasons the embedded backend gives clients (repository index, MODEL_NOT_READY, a failed explicit load)
// name files relative to the repository, never the server's absolute paths.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendOnCopyPerTest, callOptions, digitsRequest, failure } from './embedded-support.ts';

const startOnCopy = backendOnCopyPerTest();

/** A model directory `name` with the digits config and version 1 holding `modelFile` (none when undefined). */
function addModel(root: string, name: string, modelFile: string | undefined): void {
  mkdirSync(join(root, name, '1'), { recursive: true });
  writeFileSync(join(root, name, 'config.pbtxt'), readFileSync(join(root, 'digits', 'config.pbtxt'), 'utf8').replace('name: "digits"', `name: "${name}"`));
  if (modelFile !== undefined) writeFileSync(join(root, name, '1', 'model.onnx'), modelFile);
}

describe('reasons shown to clients', () => {
  it('name the model file relative to the repository', async () => {
    const { backend, root } = await startOnCopy({}, (copy) => {
      addModel(copy, 'broken', 'this is not an onnx model');
      addModel(copy, 'fileless', undefined);
    });
    const index = await backend.repositoryIndex(false, callOptions());
    const reasons = index.filter((entry) => entry.state === 'UNAVAILABLE').map((entry) => entry.reason);
    expect(reasons).toEqual([expect.stringContaining('broken/1/model.onnx'), expect.stringContaining('fileless/1/model.onnx')]);
    const notReady = await failure(backend.infer({ ...digitsRequest(1, '1'), model: 'broken' }, callOptions()));
    expect(notReady.code).toBe('MODEL_NOT_READY');
    const load = await failure(backend.loadModel('broken', callOptions()));
    for (const text of [...reasons, notReady.message, load.message]) {
      expect(text).not.toContain(root);
      expect(text).not.toMatch(/(^|[\s(])\/\w/);
    }
  });
});
