// Runs in a thread of the parse pool (body-parse-pool.ts): the JSON part of one large infer body is
// checked, parsed, schema-checked, and each input's data encoded to raw bytes here, off the event loop.
// Only the small request structure and the encoded tensors go back (the tensors' buffers are moved,
// not copied): the event loop never holds, clones or walks millions of parsed JSON values.
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import type { ErrorCode } from '../errors.ts';
import { isGatewayError } from '../errors.ts';
import { err } from '../result.ts';
import type { Result } from '../result.ts';
import { encodeJsonData } from '../tensors/json-encoder.ts';
import { checkedElementCount } from '../tensors/shape.ts';
import { tensorDataError } from '../tensors/tensor-data-error.ts';
import type { TensorDataError } from '../tensors/tensor-data-error.ts';
import { parseInferJson } from './infer-body.ts';
import type { InferBodyLimits } from './infer-body.ts';

export interface ParseTask {
  /** The JSON part, in a buffer of its own (moved to the worker). */
  readonly json: Uint8Array;
  readonly limits: InferBodyLimits;
}

export type EncodedInput = readonly [index: number, data: Result<Uint8Array, TensorDataError>];

export type ParseOutcome =
  | { readonly ok: true; readonly body: InferRequestBody; readonly encoded: readonly EncodedInput[] }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/**
 * Encodes every input's JSON data as validation would (the same element count from the shape, the same
 * datatype rules); the validator checks names, datatypes and shapes first, so it only ever uses these
 * results where the model agrees with the request. `data` is left as a null placeholder.
 */
function encodeInputs(body: InferRequestBody, limits: InferBodyLimits): EncodedInput[] {
  const encoded: EncodedInput[] = [];
  body.inputs.forEach((input, index) => {
    if (input.data === undefined) return;
    const count = checkedElementCount(input.shape);
    let data: Result<Uint8Array, TensorDataError>;
    if (!count.ok) data = count;
    else if (count.value > limits.maxTensorElements) data = err(tensorDataError('count', `${count.value} elements exceed MAX_TENSOR_ELEMENTS`));
    else data = encodeJsonData(input.datatype, input.data, count.value, limits.maxJsonDepth);
    input.data = null;
    encoded.push([index, data]);
  });
  return encoded;
}

export default function parseInferTask(task: ParseTask): unknown {
  let outcome: ParseOutcome;
  try {
    const body = parseInferJson(task.json, task.limits);
    outcome = { ok: true, body, encoded: encodeInputs(body, task.limits) };
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    outcome = { ok: false, code: error.code, message: error.message };
  }
  const moved = new Set<ArrayBuffer>();
  if (outcome.ok) {
    for (const [, data] of outcome.encoded) {
      // Only a buffer that is the tensor's alone may move; anything else is copied by the clone.
      if (data.ok && data.value.buffer instanceof ArrayBuffer && data.value.byteLength === data.value.buffer.byteLength) moved.add(data.value.buffer);
    }
  }
  return move({ [transferableSymbol]: [...moved], [valueSymbol]: outcome });
}
