// The one converter from a ModelConfig to the JSON GET .../config answers, for both backends: what
// proto-loader decodes from Triton's answer and a protobufjs message give the same frozen document.
import { describe, expect, it } from 'vitest';
import { modelConfigDocument, modelConfigType } from '../../../gateway/backends/model-config-document.ts';

/** What proto-loader hands the Triton backend for a small config: every field, unset messages as null. */
const DECODED_ANSWER = {
  input: [{ name: 'x', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [4], reshape: null, is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
  output: [],
  instance_group: [{ name: 'm_0', count: 1, gpus: [], kind: 'KIND_CPU' }],
  parameters: {},
  name: 'm',
  platform: 'onnxruntime_onnx',
  version_policy: { all: {} },
  max_batch_size: 8,
  default_model_filename: 'model.onnx',
  backend: 'onnxruntime',
  model_transaction_policy: null,
  dynamic_batching: { preferred_batch_size: [8], max_queue_delay_microseconds: 100, preserve_ordering: false },
};

const EXPECTED = {
  name: 'm',
  platform: 'onnxruntime_onnx',
  backend: 'onnxruntime',
  version_policy: { all: {} },
  max_batch_size: 8,
  input: [{ name: 'x', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [4], is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
  output: [],
  instance_group: [{ name: 'm_0', count: 1, gpus: [], kind: 'KIND_CPU' }],
  default_model_filename: 'model.onnx',
  parameters: {},
  dynamic_batching: { preferred_batch_size: [8], max_queue_delay_microseconds: 100, preserve_ordering: false },
};

describe('modelConfigDocument', () => {
  it("leaves unset messages out, keeps set empty ones, names a oneof's choice by its member alone", () => {
    const document = modelConfigDocument(DECODED_ANSWER);
    expect(document).toEqual(EXPECTED);
    expect(JSON.stringify(document)).not.toMatch(/null|_choice/);
  });

  it('gives the same document for a protobufjs message of the config, and fills the defaults of what it leaves out', () => {
    const type = modelConfigType();
    expect(modelConfigDocument(type.fromObject(DECODED_ANSWER))).toEqual(EXPECTED);
    expect(modelConfigDocument(type.fromObject({ name: 'bare' }))).toEqual({
      name: 'bare', platform: '', backend: '', max_batch_size: 0, input: [], output: [], instance_group: [], default_model_filename: '', parameters: {},
    });
  });

  it('is frozen all the way down, so no caller can change a served config', () => {
    const document = modelConfigDocument(DECODED_ANSWER);
    expect(Object.isFrozen(document)).toBe(true);
    expect(Object.isFrozen(document['input'])).toBe(true);
    expect(Object.isFrozen((document['input'] as object[])[0])).toBe(true);
    expect(Object.isFrozen((document['dynamic_batching'] as { preferred_batch_size: number[] }).preferred_batch_size)).toBe(true);
  });
});
