// Caps on one ONNX Runtime run, so that a small request cannot make the process allocate gigabytes.
// A model without batching takes any number of rows in its leading dimension, and what ORT allocates
// grows with them far beyond the request (text_topic: ~8.5 KB of intermediate tensors per row, so 1M
// one-letter texts, 7 MB of request, took ~9 GB). Triton has no such caps because it runs in its own
// process; in-process, the gateway's memory is the model's memory.
// - rows: the leading dimension of every input of a max_batch_size 0 model whose config leaves it
//   variable (a model with batching is bounded by its own max_batch_size);
// - output bytes: what the requested outputs will hold, estimated from the config dims with the
//   request's rows before the run (variable dims other than the rows count as 1, BYTES elements as
//   their 4-byte length), and checked exactly after it, before anything is copied or encoded.
// Both are the client's to fix (fewer rows, fewer outputs): 400 TOO_LARGE_TENSOR naming the field.
import { GatewayError } from '../../errors.ts';
import { BYTES_LENGTH_PREFIX_SIZE, elementSize } from '../../tensors/datatype.ts';
import type { RawTensor } from '../backend.ts';
import type { InferPlan } from './infer-plan.ts';
import type { EmbeddedModelConfig } from './model-config.ts';

export interface RunLimits {
  /** Most rows (leading dimension) of an input of a model without batching. */
  readonly maxRows: number;
  /** Most bytes the requested outputs of one run may hold together. */
  readonly maxOutputBytes: number;
}

/** text_topic at this many rows: ~70 MB of ORT memory and ~150 ms of one core (measured 2026-11-30). */
export const DEFAULT_EMBEDDED_MAX_ROWS = 8192;
/** 16 MiB: MAX_TENSOR_ELEMENTS' default (4Mi) FP32 elements, the largest FP32 tensor a client may send. */
export const DEFAULT_EMBEDDED_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Refuses a plan whose rows, or whose outputs as the config predicts them, exceed the limits. */
export function checkPlanLimits(config: EmbeddedModelConfig, plan: InferPlan, limits: RunLimits): void {
  let rows = plan.batchSize ?? 1;
  if (config.maxBatchSize === 0) {
    for (const { tensor } of plan.inputs) {
      const spec = config.inputs.find((input) => input.name === tensor.name);
      const leading = tensor.shape[0];
      if (spec?.dims[0] !== -1 || leading === undefined) continue;
      if (leading > limits.maxRows) {
        throw new GatewayError('TOO_LARGE_TENSOR', `input '${tensor.name}' of model '${config.name}' has ${leading} rows; the embedded backend runs at most ${limits.maxRows} (EMBEDDED_MAX_ROWS)`);
      }
      rows = Math.max(rows, leading);
    }
  }
  let total = 0;
  for (const output of plan.outputs) {
    const dims = plan.batchSize === undefined ? output.dims : [plan.batchSize, ...output.dims];
    // The leading -1 of a model without batching is taken to be the rows; any other -1 is unknown here.
    const elements = dims.reduce((product, dim, i) => product * (dim !== -1 ? dim : i === 0 ? rows : 1), 1);
    total += elements * (elementSize(output.datatype) ?? BYTES_LENGTH_PREFIX_SIZE);
  }
  if (total > limits.maxOutputBytes) {
    const names = plan.outputs.map((output) => `'${output.name}'`).join(', ');
    throw new GatewayError(
      'TOO_LARGE_TENSOR',
      `outputs ${names} of model '${config.name}' would hold at least ${total} bytes for this request; the embedded backend answers at most ${limits.maxOutputBytes} (EMBEDDED_MAX_OUTPUT_BYTES): ask for fewer rows or outputs`,
    );
  }
}

/** Refuses outputs that, as the model really produced them, exceed the byte limit together. */
export function checkOutputBytes(model: string, outputs: readonly RawTensor[], maxOutputBytes: number): void {
  let total = 0;
  for (const output of outputs) {
    total += output.data.byteLength;
    if (total > maxOutputBytes) {
      throw new GatewayError(
        'TOO_LARGE_TENSOR',
        `output '${output.name}' of model '${model}' brings the answer to ${total} bytes; the embedded backend answers at most ${maxOutputBytes} (EMBEDDED_MAX_OUTPUT_BYTES): ask for fewer rows or outputs`,
      );
    }
  }
}
