// Sorts an error thrown by an ONNX Runtime run into the gateway's catalogue. onnxruntime-node passes on
// only ORT's message, not the status code that Triton's onnxruntime backend maps (INVALID_ARGUMENT ->
// 400), so the wording decides:
// - ORT's own checks of the feeds (rank, dimensions, element type, names) are the client's fault;
// - a kernel that fails on the data it was given ("Non-zero status code returned while running <op>
//   node ... Status Message: ...", e.g. StringNormalizer on zero rows, Gather out of bounds) is treated
//   as the client's fault too, so the batcher can bisect a batch to the guilty member, unless the message
//   names a resource or internal failure (allocation, memory, CUDA, not implemented, an enforce);
// - anything else is the model's fault: MODEL_ERROR, as Triton answers (INTERNAL) for a model that
//   failed, so both backends agree and the batcher treats a failed batch alike.
import { GatewayError, isGatewayError } from '../../errors.ts';

const INPUT_FAULTS: readonly RegExp[] = [
  /invalid rank for input/i,
  /invalid dimensions for input/i,
  /is missing in 'feeds'/i,
  /unexpected input data type/i,
  /invalid (input|output) name/i,
  /invalid feed input name/i,
  /does not match data length|tensor's size/i,
];
const KERNEL_FAILURE = /non-zero status code returned while running/i;
const INTERNAL_FAULT = /allocat|out of memory|\bcuda|cudnn|not implemented|enforce fail/i;

export function classifyOrtError(error: unknown, model: string, version: string): GatewayError {
  if (isGatewayError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const oneLine = message.replace(/\s+/g, ' ').trim();
  const what = `model '${model}' version ${version}`;
  const inputFault =
    error instanceof RangeError ||
    error instanceof TypeError ||
    INPUT_FAULTS.some((pattern) => pattern.test(oneLine)) ||
    (KERNEL_FAILURE.test(oneLine) && !INTERNAL_FAULT.test(oneLine));
  if (inputFault) return new GatewayError('BACKEND_REJECTED', `onnxruntime rejected the input of ${what}: ${oneLine}`, { cause: error });
  return new GatewayError('MODEL_ERROR', `onnxruntime failed running ${what}: ${oneLine}`, { cause: error });
}
