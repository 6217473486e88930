// The checks made on a request before the model runs (as Triton's core makes them), the shapes the model
// is fed under `reshape`, and the output shapes reported back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InferRequest, RawTensor } from '../../../gateway/backends/backend.ts';
import { planInfer, reportedOutputShape } from '../../../gateway/backends/embedded/infer-plan.ts';
import { parseModelConfig } from '../../../gateway/backends/embedded/model-config.ts';
import type { TensorConfig } from '../../../gateway/backends/embedded/model-config.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { MODEL_REPOSITORY, digitsRequest, textRequest } from './embedded-support.ts';

const digits = parseModelConfig(readFileSync(join(MODEL_REPOSITORY, 'digits', 'config.pbtxt'), 'utf8'), 'digits');
const textTopic = parseModelConfig(readFileSync(join(MODEL_REPOSITORY, 'text_topic', 'config.pbtxt'), 'utf8'), 'text_topic');
const reshaped = parseModelConfig(
  'max_batch_size: 8 input { name: "img" data_type: TYPE_UINT8 dims: [2, 3] reshape { shape: [6] } } input { name: "opt" data_type: TYPE_FP32 dims: [1] optional: true } output { name: "y" data_type: TYPE_FP32 dims: [4, -1] reshape { shape: [-1, 4] } }',
  'reshaped',
);

function pixels(shape: readonly number[], bytes = shape.reduce((a, b) => a * b, 1) * 4): RawTensor {
  return { name: 'pixels', datatype: 'FP32', shape, data: new Uint8Array(bytes) };
}

function rejection(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) {
      expect(error.code).toBe('BACKEND_REJECTED');
      return error.message;
    }
    throw error;
  }
  throw new Error('expected BACKEND_REJECTED');
}

describe('planInfer', () => {
  it('plans a digits batch: batch size, model shapes, all outputs in config order', () => {
    const plan = planInfer(digits, digitsRequest(3));
    expect(plan.batchSize).toBe(3);
    expect(plan.inputs.map((input) => input.modelShape)).toEqual([[3, 64]]);
    expect(plan.outputs.map((output) => output.name)).toEqual(['probabilities', 'label']);
  });

  it('keeps the order of the requested outputs', () => {
    expect(planInfer(digits, digitsRequest(1, '', ['label', 'probabilities'])).outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
  });

  it('feeds a model that does not batch the shape as sent', () => {
    const plan = planInfer(textTopic, textRequest(['a', 'b']));
    expect(plan.batchSize).toBeUndefined();
    expect(plan.inputs.map((input) => input.modelShape)).toEqual([[2, 1]]);
  });

  it('feeds the reshaped shape, keeps the batch dimension, and skips an optional input left out', () => {
    const request: InferRequest = { model: 'reshaped', version: '', inputs: [{ name: 'img', datatype: 'UINT8', shape: [2, 2, 3], data: new Uint8Array(12) }], outputs: [] };
    const plan = planInfer(reshaped, request);
    expect(plan.inputs.map((input) => [input.tensor.name, input.modelShape])).toEqual([['img', [2, 6]]]);
  });

  it.each([
    ['an unknown input', { inputs: [pixels([1, 64]), { ...pixels([1, 64]), name: 'extra' }] }, /unexpected inference input 'extra' for model 'digits'/],
    ['a missing input', { inputs: [] }, /missing required input 'pixels' for model 'digits'/],
    ['an input given twice', { inputs: [pixels([1, 64]), pixels([1, 64])] }, /input 'pixels' is given more than once/],
    ['another datatype', { inputs: [{ ...pixels([1, 64]), datatype: 'FP64' as const }] }, /data-type is 'FP64', but model 'digits' expects 'FP32'/],
    ['a wrong row shape', { inputs: [pixels([1, 63])] }, /unexpected shape for input 'pixels' for model 'digits'\. Expected \[-1,64\], got \[1,63\]/],
    ['no batch dimension', { inputs: [pixels([64])] }, /Expected \[-1,64\], got \[64\]/],
    ['a batch over max_batch_size', { inputs: [pixels([65, 64])] }, /inference request batch-size must be <= 64 for 'digits'/],
    ['a byte count that does not fit the shape', { inputs: [pixels([2, 64], 4 * 64)] }, /input 'pixels' for model 'digits': expected 128 FP32 elements \(512 bytes\), got 256 bytes/],
    ['an unknown output', { inputs: [pixels([1, 64])], outputs: ['nope'] }, /unexpected inference output 'nope' for model 'digits'/],
    ['an output asked twice', { inputs: [pixels([1, 64])], outputs: ['label', 'label'] }, /output 'label' is requested more than once/],
  ])('rejects %s', (_what, change: { readonly inputs: readonly RawTensor[]; readonly outputs?: readonly string[] }, message) => {
    const request: InferRequest = { model: 'digits', version: '', inputs: change.inputs, outputs: change.outputs ?? [] };
    expect(rejection(() => planInfer(digits, request))).toMatch(message);
  });

  it('rejects BYTES data whose element count does not fit the shape, and a rank that does not match a model without batching', () => {
    const request = textRequest(['a', 'b']);
    const first = request.inputs[0] as RawTensor;
    expect(rejection(() => planInfer(textTopic, { ...request, inputs: [{ ...first, shape: [3, 1] }] }))).toMatch(/expected 3 elements, got 2/);
    expect(rejection(() => planInfer(textTopic, { ...request, inputs: [{ ...first, shape: [2] }] }))).toMatch(/Expected \[-1,1\], got \[2\]/);
  });

  it('rejects inputs whose batch sizes differ', () => {
    const request: InferRequest = {
      model: 'reshaped',
      version: '',
      inputs: [
        { name: 'img', datatype: 'UINT8', shape: [2, 2, 3], data: new Uint8Array(12) },
        { name: 'opt', datatype: 'FP32', shape: [3, 1], data: new Uint8Array(12) },
      ],
      outputs: [],
    };
    expect(rejection(() => planInfer(reshaped, request))).toMatch(/batch size 3 does not match the other inputs \(2\)/);
  });
});

describe('reportedOutputShape', () => {
  const label = digits.outputs[1] as TensorConfig;
  const probabilities = digits.outputs[0] as TensorConfig;
  const y = reshaped.outputs[0] as TensorConfig;

  it('reports [batch] + dims for a reshaped output: digits label [N] -> [N, 1]', () => {
    expect(reportedOutputShape(label, 3, [3])).toEqual([3, 1]);
    expect(reportedOutputShape(label, 0, [0])).toEqual([0, 1]);
  });

  it('reports what the model produced when there is no reshape', () => {
    expect(reportedOutputShape(probabilities, 3, [3, 10])).toEqual([3, 10]);
    expect(reportedOutputShape(textTopic.outputs[0] as TensorConfig, undefined, [2])).toEqual([2]);
  });

  it('resolves one variable dim from the element count, and gives up when the count does not fit', () => {
    expect(reportedOutputShape(y, 2, [2, 8])).toEqual([2, 4, 2]);
    expect(reportedOutputShape(y, 2, [2, 3])).toBeUndefined();
    expect(reportedOutputShape(label, 3, [3, 2])).toBeUndefined();
  });
});
