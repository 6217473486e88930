// The python-backend twin keeps everything of a model config except what only the ONNX Runtime backend
// (or the serving hardware) understands. No Triton needed: these check the generated text.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topLevelFields } from '../support/real-triton/pbtxt-fields.ts';
import { createTwinRepository, MODEL_REPOSITORY, twinConfig } from '../support/real-triton/twin-repository.ts';

const ONNX_CONFIG = `# a comment with { braces } and "quotes"
name: "m"
platform: "onnxruntime_onnx"
default_model_filename: "weights.onnx"
max_batch_size: 8
input [ { name: "x", data_type: TYPE_FP32, dims: [ -1, 3 ], reshape { shape: [ 3 ] } } ]
output [
  { name: "y" data_type: TYPE_STRING dims: [ 1 ] label_filename: "labels {1}.txt" }
]
instance_group [ { kind: KIND_GPU, count: 2, gpus: [ 0 ] } ]
optimization { execution_accelerators { gpu_execution_accelerator : [ { name : "tensorrt" } ] } }
parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
version_policy: { specific: { versions: [ 1, 3 ] } }
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 }
`;

describe('twinConfig', () => {
  it('swaps the backend, drops ONNX-only settings and keeps the rest byte for byte', () => {
    const twin = twinConfig('m', ONNX_CONFIG);
    const names = topLevelFields(twin).map((field) => field.name);
    expect(names).toEqual(['name', 'max_batch_size', 'input', 'output', 'parameters', 'version_policy', 'dynamic_batching', 'backend', 'instance_group']);
    const fields = new Map(topLevelFields(twin).map((field) => [field.name, field.value]));
    expect(fields.get('backend')).toBe('"python"');
    expect(fields.get('instance_group')).toBe('[ { kind: KIND_CPU, count: 1 } ]');
    expect(fields.get('input')).toBe('[ { name: "x", data_type: TYPE_FP32, dims: [ -1, 3 ], reshape { shape: [ 3 ] } } ]');
    expect(fields.get('output')).toContain('label_filename: "labels {1}.txt"');
    expect(fields.get('version_policy')).toBe('{ specific: { versions: [ 1, 3 ] } }');
    expect(twin).toContain('# a comment with { braces } and "quotes"');
  });

  it('replaces the version policy when asked', () => {
    const fields = topLevelFields(twinConfig('m', ONNX_CONFIG, '{ all: {} }'));
    expect(fields.filter((field) => field.name === 'version_policy').map((field) => field.value)).toEqual(['{ all: {} }']);
  });

  it('refuses a config it cannot read instead of writing a broken one', () => {
    expect(() => twinConfig('m', 'name: "m"\ninput [ { name: "x" ')).toThrow(/unclosed \[/);
  });
});

describe('createTwinRepository', () => {
  it('twins model_repository: every model and version, config fields kept, model.py next to model.onnx', async () => {
    const twin = await createTwinRepository();
    try {
      for (const [model, versions] of [['digits', ['1', '2']], ['text_topic', ['1']]] as const) {
        const original = new Map(topLevelFields(await readFile(join(MODEL_REPOSITORY, model, 'config.pbtxt'), 'utf8')).map((f) => [f.name, f.value]));
        const twinned = new Map(topLevelFields(await readFile(join(twin.path, model, 'config.pbtxt'), 'utf8')).map((f) => [f.name, f.value]));
        for (const kept of ['name', 'max_batch_size', 'input', 'output', 'version_policy', 'dynamic_batching']) expect(twinned.get(kept), `${model} ${kept}`).toBe(original.get(kept));
        expect(twinned.get('backend')).toBe('"python"');
        for (const version of versions) {
          const onnx = await readFile(join(twin.path, model, version, 'model.onnx'));
          expect(onnx.equals(await readFile(join(MODEL_REPOSITORY, model, version, 'model.onnx')))).toBe(true);
          expect(await readFile(join(twin.path, model, version, 'model.py'), 'utf8')).toContain('class TritonPythonModel');
        }
      }
    } finally {
      await twin.remove();
    }
  });
});
