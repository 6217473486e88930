// The check Triton's onnxruntime backend makes when it loads a model: the config's inputs and outputs
// must exist in the ONNX graph with the same element type and a compatible shape (rank, fixed dims),
// and every graph input must be in the config. Returns the reason a load fails, or undefined.
import type { InferenceSession } from 'onnxruntime-node';
import type { EmbeddedModelConfig, TensorConfig } from './model-config.ts';
import { ortTypeOf } from './ort-tensors.ts';

type ValueMetadata = InferenceSession.ValueMetadata;

export function sessionMismatch(
  config: EmbeddedModelConfig,
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
): string | undefined {
  for (const graphInput of inputs) {
    if (!config.inputs.some((input) => input.name === graphInput.name)) {
      return `model input '${graphInput.name}' is not in the config (config inputs: ${config.inputs.map((i) => i.name).join(', ')})`;
    }
  }
  for (const [kind, tensors, graph] of [['input', config.inputs, inputs], ['output', config.outputs, outputs]] as const) {
    for (const tensor of tensors) {
      const found = graph.find((value) => value.name === tensor.name);
      if (found === undefined) return `config ${kind} '${tensor.name}' is not in the model (model ${kind}s: ${graph.map((v) => v.name).join(', ')})`;
      const problem = mismatch(config, tensor, found);
      if (problem !== undefined) return `${kind} '${tensor.name}': ${problem}`;
    }
  }
  return undefined;
}

function mismatch(config: EmbeddedModelConfig, tensor: TensorConfig, graph: ValueMetadata): string | undefined {
  if (!graph.isTensor) return 'the model value is not a tensor (sequences and maps are not served)';
  const expectedType = ortTypeOf(tensor.datatype);
  if (graph.type !== expectedType) return `the config says ${tensor.datatype} (${String(expectedType)}), the model has ${graph.type}`;
  const perRow = tensor.reshape ?? tensor.dims;
  const expected = config.maxBatchSize > 0 ? [-1, ...perRow] : perRow;
  // ORT reports [] when the graph declares no shape; nothing to compare then.
  if (graph.shape.length === 0 && expected.length > 0) return undefined;
  const shown = `[${graph.shape.map((d) => (typeof d === 'number' ? d : -1)).join(',')}]`;
  if (graph.shape.length !== expected.length) return `the config shape [${expected.join(',')}] has rank ${expected.length}, the model shape ${shown} rank ${graph.shape.length}`;
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    const have = graph.shape[i];
    if (want !== -1 && typeof have === 'number' && have !== want) return `the config shape [${expected.join(',')}] does not fit the model shape ${shown}`;
    if (i === 0 && config.maxBatchSize > 0 && typeof have === 'number' && !(have === 1 && config.maxBatchSize === 1)) {
      return `the model's first dimension is fixed at ${have}; max_batch_size ${config.maxBatchSize} needs a variable batch dimension`;
    }
  }
  return undefined;
}
