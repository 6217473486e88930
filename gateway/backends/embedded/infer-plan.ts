// The checks Triton's core makes on a request before the model sees it (input names, datatypes, shapes
// against the config, batch size <= max_batch_size, byte sizes, requested output names), the shapes the
// model is fed (config `reshape`), and the shapes Triton reports for outputs. Every failure is
// BACKEND_REJECTED, as Triton answers them with INVALID_ARGUMENT.
import { GatewayError } from '../../errors.ts';
import { checkRawLength } from '../../tensors/raw-validation.ts';
import { checkedElementCount, elementCount, formatShape, shapeMatches } from '../../tensors/shape.ts';
import type { InferRequest, RawTensor } from '../backend.ts';
import type { EmbeddedModelConfig, TensorConfig } from './model-config.ts';

export interface PlannedInput {
  readonly tensor: RawTensor;
  /** The shape ONNX Runtime is fed: [batch] + (reshape ?? dims) when batching, else (reshape ?? shape). */
  readonly modelShape: readonly number[];
}

export interface InferPlan {
  /** Rows of the request; undefined when the model does not batch. */
  readonly batchSize: number | undefined;
  readonly inputs: readonly PlannedInput[];
  /** Outputs to compute, in the order asked (all of the config's, in config order, when none were). */
  readonly outputs: readonly TensorConfig[];
}

export function planInfer(config: EmbeddedModelConfig, request: InferRequest): InferPlan {
  const model = config.name;
  const reject = (message: string): never => {
    throw new GatewayError('BACKEND_REJECTED', message);
  };
  const byName = new Map<string, RawTensor>();
  for (const input of request.inputs) {
    if (byName.has(input.name)) reject(`input '${input.name}' is given more than once for model '${model}'`);
    byName.set(input.name, input);
  }
  for (const name of byName.keys()) {
    if (!config.inputs.some((input) => input.name === name)) reject(`unexpected inference input '${name}' for model '${model}'`);
  }
  let batchSize: number | undefined;
  const inputs: PlannedInput[] = [];
  for (const expected of config.inputs) {
    const tensor = byName.get(expected.name);
    if (tensor === undefined) {
      if (expected.optional) continue;
      return reject(`missing required input '${expected.name}' for model '${model}'`);
    }
    if (tensor.datatype !== expected.datatype) {
      reject(`inference input '${tensor.name}' data-type is '${tensor.datatype}', but model '${model}' expects '${expected.datatype}'`);
    }
    const counted = checkedElementCount(tensor.shape);
    if (!counted.ok) return reject(`input '${tensor.name}': ${counted.error.message}`);
    let rowShape = tensor.shape;
    if (config.maxBatchSize > 0) {
      const rows = tensor.shape[0];
      if (rows === undefined) return reject(`input '${tensor.name}' for model '${model}' has no batch dimension (shape [])`);
      if (rows > config.maxBatchSize) reject(`inference request batch-size must be <= ${config.maxBatchSize} for '${model}'`);
      if (batchSize !== undefined && rows !== batchSize) reject(`input '${tensor.name}' batch size ${rows} does not match the other inputs (${batchSize}) for '${model}'`);
      batchSize = rows;
      rowShape = tensor.shape.slice(1);
    }
    if (!shapeMatches(rowShape, expected.dims)) {
      const full = config.maxBatchSize > 0 ? [-1, ...expected.dims] : expected.dims;
      reject(`unexpected shape for input '${tensor.name}' for model '${model}'. Expected ${formatShape(full)}, got ${formatShape(tensor.shape)}`);
    }
    const length = checkRawLength(tensor.datatype, tensor.data, counted.value);
    if (!length.ok) reject(`input '${tensor.name}' for model '${model}': ${length.error.message}`);
    const perRow = expected.reshape === undefined ? rowShape : resolveVariable(expected.reshape, elementCount(rowShape));
    if (perRow === undefined) return reject(`input '${tensor.name}' of shape ${formatShape(tensor.shape)} cannot be reshaped to ${formatShape(expected.reshape ?? [])} for model '${model}'`);
    inputs.push({ tensor, modelShape: batchSize === undefined ? perRow : [batchSize, ...perRow] });
  }
  return { batchSize, inputs, outputs: plannedOutputs(config, request.outputs, reject) };
}

function plannedOutputs(config: EmbeddedModelConfig, names: readonly string[], reject: (message: string) => never): readonly TensorConfig[] {
  if (names.length === 0) return config.outputs;
  const seen = new Set<string>();
  return names.map((name) => {
    const output = config.outputs.find((candidate) => candidate.name === name);
    if (output === undefined) return reject(`unexpected inference output '${name}' for model '${config.name}'`);
    if (seen.has(name)) reject(`output '${name}' is requested more than once for model '${config.name}'`);
    seen.add(name);
    return output;
  });
}

/**
 * The shape Triton reports for an output. Without `reshape` it is what the model produced (which, with
 * batching, is [batch] + dims). With `reshape` it is [batch] + dims (no batch when the model does not
 * batch), a single -1 in dims resolved from the element count; undefined when the element count does
 * not fit dims at all.
 */
export function reportedOutputShape(output: TensorConfig, batchSize: number | undefined, modelShape: readonly number[]): readonly number[] | undefined {
  if (output.reshape === undefined) return modelShape;
  const total = elementCount(modelShape);
  if (batchSize === undefined) return resolveVariable(output.dims, total);
  if (batchSize === 0) return [0, ...output.dims.map((dim) => (dim === -1 ? 0 : dim))];
  if (total % batchSize !== 0) return undefined;
  const row = resolveVariable(output.dims, total / batchSize);
  return row === undefined ? undefined : [batchSize, ...row];
}

/** dims with at most one -1 replaced so that the element count is `count`; undefined when impossible. */
function resolveVariable(dims: readonly number[], count: number): readonly number[] | undefined {
  const variable = dims.filter((dim) => dim === -1).length;
  const fixed = elementCount(dims.filter((dim) => dim !== -1));
  if (variable === 0) return fixed === count ? dims : undefined;
  if (variable > 1 || fixed === 0 || count % fixed !== 0) return undefined;
  return dims.map((dim) => (dim === -1 ? count / fixed : dim));
}
