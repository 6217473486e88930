// config.pbtxt -> Triton's ModelConfig JSON (the exact shape the Triton backend gets from proto-loader)
// and the typed view the embedded backend serves from; what it refuses; which versions a policy loads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelConfigError, parseModelConfig, selectVersions } from '../../../gateway/backends/embedded/model-config.ts';
import { versionOfDirectory } from '../../../gateway/backends/embedded/model-files.ts';
import { modelConfigDocument } from '../../../gateway/backends/model-config-document.ts';
import { loadInferenceProtocol, serviceMethods } from '../../../gateway/backends/triton/inference-protocol.ts';
import { MODEL_REPOSITORY } from './embedded-support.ts';

const digitsText = readFileSync(join(MODEL_REPOSITORY, 'digits', 'config.pbtxt'), 'utf8');
const textTopicText = readFileSync(join(MODEL_REPOSITORY, 'text_topic', 'config.pbtxt'), 'utf8');
const MINIMAL = 'input { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } output { name: "y" data_type: TYPE_FP32 dims: [ 2 ] }';

/** The document after a trip through the project's own ModelConfigResponse (de)serialiser, as a Triton answer comes. */
function throughProtoLoader(document: unknown): Record<string, unknown> {
  const method = serviceMethods(loadInferenceProtocol()).ModelConfig;
  return (method.responseDeserialize(method.responseSerialize({ config: document })) as { config: Record<string, unknown> }).config;
}

function refusal(text: string, model = 'm'): string {
  try {
    parseModelConfig(text, model);
  } catch (error) {
    if (error instanceof ModelConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

describe('parseModelConfig on the repository configs', () => {
  it('gives the digits config as Triton would answer it, defaults filled in', () => {
    const config = parseModelConfig(digitsText, 'digits');
    expect(config.document).toEqual({
      name: 'digits',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 64,
      input: [{ name: 'pixels', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [64], is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
      output: [
        { name: 'probabilities', data_type: 'TYPE_FP32', dims: [10], label_filename: '' },
        { name: 'label', data_type: 'TYPE_INT64', dims: [1], label_filename: '', reshape: { shape: [] } },
      ],
      // What Triton 2.51 answers for this config (name digits_0, preferred batch = max_batch_size), in the
      // fields of the project's proto.
      instance_group: [{ name: 'digits_0', count: 1, gpus: [], kind: 'KIND_CPU' }],
      default_model_filename: 'model.onnx',
      dynamic_batching: { preferred_batch_size: [64], max_queue_delay_microseconds: 100, preserve_ordering: false },
      parameters: {},
    });
    expect(JSON.stringify(config.document)).not.toMatch(/null|_choice/);
    expect(config).toMatchObject({
      name: 'digits',
      maxBatchSize: 64,
      versionPolicy: { kind: 'latest', count: 1 },
      modelFilename: 'model.onnx',
      inputs: [{ name: 'pixels', datatype: 'FP32', dims: [64], reshape: undefined, optional: false }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', dims: [10], reshape: undefined },
        { name: 'label', datatype: 'INT64', dims: [1], reshape: [] },
      ],
    });
  });

  it('gives text_topic with BYTES tensors and no batching', () => {
    const config = parseModelConfig(textTopicText, 'text_topic');
    expect(config.maxBatchSize).toBe(0);
    expect(config.inputs).toEqual([{ name: 'text', datatype: 'BYTES', dims: [-1, 1], reshape: undefined, optional: false }]);
    expect(config.outputs.map((o) => [o.name, o.datatype, o.dims])).toEqual([['label', 'BYTES', [-1]], ['probabilities', 'FP32', [-1, 3]]]);
    expect(config.document['dynamic_batching']).toBeUndefined();
  });

  it.each([
    ['digits', digitsText],
    ['text_topic', textTopicText],
    ['m', `${MINIMAL} version_policy: { specific: { versions: [1, 3] } } parameters { key: "k" value { string_value: "v" } } instance_group [ { count: 2 kind: KIND_GPU gpus: [0] } ]`],
  ])('is, for %s, what the Triton backend hands up for the same config: stable through the gRPC message', (model, text) => {
    const document = parseModelConfig(text, model).document;
    expect(modelConfigDocument(throughProtoLoader(document))).toEqual(document);
  });

  it('is frozen, so no caller can change the served config', () => {
    const config = parseModelConfig(digitsText, 'digits');
    expect(Object.isFrozen(config.document)).toBe(true);
    expect(Object.isFrozen((config.document['input'] as object[])[0])).toBe(true);
  });
});

describe('parseModelConfig defaults and fields', () => {
  it('fills name, platform, backend, policy latest(1), max_batch_size 0 and model.onnx for a bare config', () => {
    const config = parseModelConfig(MINIMAL, 'bare');
    expect(config.document).toMatchObject({
      name: 'bare',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 0,
      version_policy: { latest: { num_versions: 1 } },
      default_model_filename: 'model.onnx',
      instance_group: [{ name: 'bare_0', count: 1, gpus: [], kind: 'KIND_CPU' }],
    });
    expect(config.versionPolicy).toEqual({ kind: 'latest', count: 1 });
  });

  it('reads the all and specific policies, enum numbers, maps, named instance groups and a custom file name', () => {
    const all = parseModelConfig(`${MINIMAL} version_policy { all {} }`, 'm');
    expect(all.versionPolicy).toEqual({ kind: 'all' });
    expect(all.document['version_policy']).toEqual({ all: {} });
    const specific = parseModelConfig(`${MINIMAL} version_policy: { specific: { versions: 3 versions: 1 } }`, 'm');
    expect(specific.versionPolicy).toEqual({ kind: 'specific', versions: [3, 1] });
    const numbered = parseModelConfig('input { name: "x" data_type: 11 dims: 1 } output { name: "y" data_type: 9 dims: 1 }', 'm');
    expect(numbered.inputs[0]?.datatype).toBe('FP32');
    expect(numbered.outputs[0]?.datatype).toBe('INT64');
    const extras = parseModelConfig(`${MINIMAL} parameters { key: "a" value { string_value: "1" } } parameters: { key: "b" value: { } } instance_group { count: 2 } default_model_filename: "net.onnx"`, 'm');
    expect(extras.document['parameters']).toEqual({ a: { string_value: '1' }, b: { string_value: '' } });
    expect(extras.document['instance_group']).toEqual([{ name: 'm_0', count: 2, gpus: [], kind: 'KIND_CPU' }]);
    expect(extras.modelFilename).toBe('net.onnx');
  });

  it('reads every section the .proto declares: model_transaction_policy, the scheduling oneof', () => {
    const config = parseModelConfig(`${MINIMAL} model_transaction_policy { decoupled: false } dynamic_batching { preferred_batch_size: [2] }`, 'm');
    expect(config.document['model_transaction_policy']).toEqual({ decoupled: false });
    expect(config.document['dynamic_batching']).toEqual({ preferred_batch_size: [2], max_queue_delay_microseconds: 0, preserve_ordering: false });
    expect(Object.keys(config.document).filter((key) => key.endsWith('_choice'))).toEqual([]);
  });

  it('drops fields outside the subset, as proto-loader does, but still parses them', () => {
    const config = parseModelConfig(`${MINIMAL} optimization { execution_accelerators { cpu_execution_accelerator: [ { name: "openvino" } ] } } model_warmup []`, 'm');
    expect(Object.keys(config.document)).not.toContain('optimization');
    expect(() => parseModelConfig(`${MINIMAL} optimization { oops`, 'm')).toThrow(ModelConfigError);
  });
});

describe('parseModelConfig refusals', () => {
  it.each([
    ['a syntax error', 'name: "m" max_batch_size 4', /invalid config\.pbtxt: 1:26: expected ':'/],
    ['a name other than the directory', `name: "other" ${MINIMAL}`, /config name "other" does not match the model directory "m"/],
    ['another platform', `platform: "tensorrt_plan" ${MINIMAL}`, /platform "tensorrt_plan" is not served/],
    ['another backend', `backend: "python" ${MINIMAL}`, /backend "python" is not served/],
    ['a negative max_batch_size', `max_batch_size: -1 ${MINIMAL}`, /max_batch_size -1 must be >= 0/],
    ['no inputs', 'output { name: "y" data_type: TYPE_FP32 dims: 1 }', /lists no inputs/],
    ['no outputs', 'input { name: "x" data_type: TYPE_FP32 dims: 1 }', /lists no outputs/],
    ['a tensor without dims', 'input { name: "x" data_type: TYPE_FP32 } output { name: "y" data_type: TYPE_FP32 dims: 1 }', /input "x" must specify dims/],
    ['a zero dimension', 'input { name: "x" data_type: TYPE_FP32 dims: [0] } output { name: "y" data_type: TYPE_FP32 dims: 1 }', /dimension 0 must be -1 or >= 1/],
    ['TYPE_INVALID', 'input { name: "x" dims: 1 } output { name: "y" data_type: TYPE_FP32 dims: 1 }', /input "x" has data_type TYPE_INVALID/],
    ['BF16', 'input { name: "x" data_type: TYPE_BF16 dims: 1 } output { name: "y" data_type: TYPE_FP32 dims: 1 }', /TYPE_BF16 tensors are not supported/],
    ['a duplicate input', 'input [{ name: "x" data_type: TYPE_FP32 dims: 1 }, { name: "x" data_type: TYPE_FP32 dims: 1 }] output { name: "y" data_type: TYPE_FP32 dims: 1 }', /input "x" is listed twice/],
    ['a reshape of another size', 'input { name: "x" data_type: TYPE_FP32 dims: [2, 3] reshape { shape: [5] } } output { name: "y" data_type: TYPE_FP32 dims: 1 }', /reshape \[5\] of a different size than dims \[2, 3\]/],
    ['sequence batching', `${MINIMAL} sequence_batching { }`, /sequence_batching is not supported/],
    ['a decoupled model', `${MINIMAL} model_transaction_policy { decoupled: true }`, /model_transaction_policy decoupled is not supported/],
    ['a non-repeated field given twice', `max_batch_size: 1 max_batch_size: 2 ${MINIMAL}`, /ModelConfig\.max_batch_size: non-repeated field is specified 2 times/],
    ['a string where a number belongs', `max_batch_size: "8" ${MINIMAL}`, /ModelConfig\.max_batch_size: expected an integer \(int32\), got "8"/],
    ['a float where an integer belongs', `max_batch_size: 1.5 ${MINIMAL}`, /expected an integer \(int32\), got 1\.5/],
    ['an int32 out of range', `max_batch_size: 3000000000 ${MINIMAL}`, /3000000000 is out of range for int32/],
    ['an unknown enum value', 'input { name: "x" data_type: TYPE_FLOAT dims: 1 } output { name: "y" data_type: TYPE_FP32 dims: 1 }', /ModelConfig\.input\[0\]\.data_type: expected one of TYPE_INVALID, TYPE_BOOL/],
    ['two members of a oneof', `${MINIMAL} version_policy { latest { num_versions: 1 } all { } }`, /only one of latest, all, specific may be set/],
    ['latest(0)', `${MINIMAL} version_policy { latest { num_versions: 0 } }`, /num_versions >= 1/],
    ['a scalar where a message belongs', `${MINIMAL} dynamic_batching: 5`, /ModelConfig\.dynamic_batching: expected a message/],
    ['a path as the model file name', `${MINIMAL} default_model_filename: "../x.onnx"`, /must be a plain file name/],
  ])('refuses %s', (_what, text, message) => {
    expect(refusal(text)).toMatch(message);
  });
});

describe('version policy', () => {
  it('latest(n) takes the n highest directories, all takes every one, specific the listed ones present', () => {
    expect(selectVersions({ kind: 'latest', count: 1 }, [1, 2])).toEqual([2]);
    expect(selectVersions({ kind: 'latest', count: 2 }, [3, 10, 1, 2])).toEqual([10, 3]);
    expect(selectVersions({ kind: 'latest', count: 5 }, [1])).toEqual([1]);
    expect(selectVersions({ kind: 'all' }, [2, 1, 3])).toEqual([3, 2, 1]);
    expect(selectVersions({ kind: 'specific', versions: [1, 4] }, [1, 2, 3])).toEqual([1]);
    expect(selectVersions({ kind: 'latest', count: 1 }, [])).toEqual([]);
  });

  it('counts only decimal directory names that do not start with 0, as Triton does', () => {
    expect(['1', '2', '10', '0', '01', 'v1', '1a', '', '-1', '1.0'].map(versionOfDirectory)).toEqual([1, 2, 10, undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
