// Checks a schema-valid infer request against the model's own signature (input names, datatypes,
// shapes, batch size, element counts, value ranges, output names) and turns it into raw tensors for the
// backend. Nothing reaches Triton unless this passes; every failure names the input or output at fault.
import type { InferRequest, ParameterValue, Parameters, RawTensor } from '../backends/backend.ts';
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import { GatewayError } from '../errors.ts';
import type { Result } from '../result.ts';
import { classificationProblem } from '../tensors/datatype.ts';
import { encodeJsonData } from '../tensors/json-encoder.ts';
import { checkRawLength } from '../tensors/raw-validation.ts';
import { checkedElementCount, formatShape, shapeMatches } from '../tensors/shape.ts';
import type { TensorDataError } from '../tensors/tensor-data-error.ts';
import type { ModelSignature, TensorSignature } from './model-signature.ts';

export interface ValidationLimits {
  readonly maxTensorElements: number;
  readonly maxJsonDepth: number;
}

export interface ValidatedRequest {
  readonly request: InferRequest;
  /** Rows in the batch dimension; 0 when the model does not batch. */
  readonly batchSize: number;
}

/**
 * @param binaryInputs bytes of inputs sent with the binary data extension, by their index in `inputs`.
 * @param encodedInputs JSON data already encoded (by a parse worker), by index; used instead of `data`.
 */
export function validateInferRequest(
  body: InferRequestBody,
  binaryInputs: ReadonlyMap<number, Uint8Array>,
  model: ModelSignature,
  target: { readonly model: string; readonly version: string },
  limits: ValidationLimits,
  encodedInputs?: ReadonlyMap<number, Result<Uint8Array, TensorDataError>>,
): ValidatedRequest {
  const declared = model.inputByName;
  const seen = new Set<string>();
  let batchSize: number | undefined;
  const inputs: RawTensor[] = [];

  body.inputs.forEach((input, index) => {
    const field = `inputs[${index}] "${input.name}"`;
    const spec = declared.get(input.name);
    if (spec === undefined) fail(`${field}: model "${model.name}" has no such input; its inputs are ${names(model.inputs)}`);
    if (seen.has(input.name)) fail(`${field}: input given more than once`);
    seen.add(input.name);
    if (input.datatype !== spec.datatype) fail(`${field}: datatype ${input.datatype} does not match the model's ${spec.datatype}`);

    checkShape(field, input.shape, spec, model.maxBatchSize);
    if (model.maxBatchSize > 0) {
      const rows = input.shape[0] ?? 0;
      if (batchSize !== undefined && rows !== batchSize) {
        fail(`${field}: batch dimension ${rows} differs from the other inputs' ${batchSize}`);
      }
      batchSize = rows;
    }

    const count = checkedElementCount(input.shape);
    if (!count.ok) fail(`${field}: ${count.error.message}`);
    if (count.value > limits.maxTensorElements) {
      throw new GatewayError(
        'TOO_LARGE_TENSOR',
        `${field}: ${count.value} elements exceed the limit of ${limits.maxTensorElements} (MAX_TENSOR_ELEMENTS)`,
      );
    }

    inputs.push({ name: input.name, datatype: input.datatype, shape: input.shape, data: tensorBytes(field, input, index, count.value) });
  });

  for (const spec of model.inputs) {
    if (!seen.has(spec.name) && !spec.optional) fail(`inputs: missing input "${spec.name}" (${spec.datatype} ${formatShape(spec.shape)}) of model "${model.name}"`);
  }

  const outputNames = model.outputNames;
  const asked = new Set<string>();
  const outputs = (body.outputs ?? []).map((output, index) => {
    const field = `outputs[${index}] "${output.name}"`;
    if (!outputNames.has(output.name)) {
      throw new GatewayError('INVALID_OUTPUT', `${field}: model "${model.name}" has no such output; its outputs are ${names(model.outputs)}`);
    }
    if (asked.has(output.name)) throw new GatewayError('INVALID_OUTPUT', `${field}: output requested more than once`);
    asked.add(output.name);
    checkOutputParameters(field, output, model.outputs);
    return output.name;
  });

  const parameters = forwardable(body.parameters, REQUEST_TRANSPORT_PARAMETERS);
  const outputParameters: Record<string, Parameters> = {};
  for (const output of body.outputs ?? []) {
    const forwarded = forwardable(output.parameters, OUTPUT_TRANSPORT_PARAMETERS);
    if (forwarded !== undefined) outputParameters[output.name] = forwarded;
  }
  const request: InferRequest = {
    model: target.model,
    version: target.version,
    ...(body.id === undefined ? {} : { id: body.id }),
    inputs,
    outputs,
    ...(parameters === undefined ? {} : { parameters }),
    ...(Object.keys(outputParameters).length === 0 ? {} : { outputParameters }),
  };
  return { request, batchSize: batchSize ?? 0 };

  function tensorBytes(field: string, input: InferRequestBody['inputs'][number], index: number, count: number): Uint8Array {
    const binary = binaryInputs.get(index);
    if (binary !== undefined) {
      if (input.data !== undefined) fail(`${field}: has both "data" and binary_data_size; send one`);
      const length = checkRawLength(input.datatype, binary, count);
      if (!length.ok) fail(`${field}: binary data: ${length.error.message}`);
      return binary;
    }
    const preEncoded = encodedInputs?.get(index);
    if (preEncoded !== undefined) {
      if (!preEncoded.ok) fail(`${field}: data: ${preEncoded.error.message}`);
      return preEncoded.value;
    }
    if (input.data === undefined) fail(`${field}: "data" is required (or parameters.binary_data_size with binary data)`);
    const encoded = encodeJsonData(input.datatype, input.data, count, limits.maxJsonDepth);
    if (!encoded.ok) fail(`${field}: data: ${encoded.error.message}`);
    return encoded.value;
  }
}

function checkShape(field: string, shape: readonly number[], spec: TensorSignature, maxBatchSize: number): void {
  if (maxBatchSize > 0) {
    const rows = shape[0];
    if (shape.length !== spec.shape.length || rows === undefined) {
      fail(`${field}: shape ${formatShape(shape)} has rank ${shape.length}; the model expects ${formatShape(spec.shape)} (first dimension = batch)`);
    }
    if (rows < 1 || rows > maxBatchSize) {
      fail(`${field}: batch dimension ${rows} must be between 1 and the model's max_batch_size ${maxBatchSize}`);
    }
    if (!shapeMatches(shape.slice(1), spec.shape.slice(1))) {
      fail(`${field}: shape ${formatShape(shape)} does not match the model's ${formatShape(spec.shape)} (-1 = any size)`);
    }
    return;
  }
  if (!shapeMatches(shape, spec.shape)) {
    fail(`${field}: shape ${formatShape(shape)} does not match the model's ${formatShape(spec.shape)} (-1 = any size)`);
  }
}

/**
 * Checks the parameters of a requested output that the gateway understands before anything is sent:
 * `classification: N` (Triton answers the top N classes as BYTES "value:index[:label]") needs a whole
 * number N >= 1 and an output whose datatype Triton can rank. Refused here, the same way for both
 * backends, rather than by the backend: Triton 2.51 crashes on a BYTES output with classification.
 * `requested` is an entry of the request's outputs (`field` names it), `outputs` the model's.
 */
function checkOutputParameters(
  field: string,
  requested: { readonly name: string; readonly parameters?: Readonly<Record<string, ParameterValue>> | undefined },
  outputs: readonly TensorSignature[],
): void {
  const classification = requested.parameters?.['classification'];
  const spec = outputs.find((output) => output.name === requested.name);
  if (classification === undefined || spec === undefined) return;
  const problem = classificationProblem(classification, spec.datatype);
  if (problem === 'count') {
    throw new GatewayError('INVALID_OUTPUT', `${field}: parameters.classification must be a whole number >= 1, got ${JSON.stringify(classification)}`);
  }
  if (problem === 'datatype') {
    throw new GatewayError('INVALID_OUTPUT', `${field}: parameters.classification cannot rank a ${spec.datatype} output (only integer, FP32 and FP64 outputs)`);
  }
}

/** Parameters that shape the HTTP exchange itself; the gateway handles them and Triton never sees them. */
const REQUEST_TRANSPORT_PARAMETERS = new Set(['binary_data_output', 'timeout']);
const OUTPUT_TRANSPORT_PARAMETERS = new Set(['binary_data']);

function forwardable(parameters: Readonly<Record<string, ParameterValue>> | undefined, transport: ReadonlySet<string>): Parameters | undefined {
  if (parameters === undefined) return undefined;
  const kept = Object.entries(parameters).filter(([key]) => !transport.has(key));
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

function names(tensors: readonly TensorSignature[]): string {
  return tensors.map((tensor) => `"${tensor.name}"`).join(', ');
}

function fail(message: string): never {
  throw new GatewayError('INVALID_INPUT', message);
}
