// Reads an infer request body in either form of the protocol: plain JSON, or the binary tensor data
// extension (a JSON header of Inference-Header-Content-Length bytes followed by the inputs' raw bytes).
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import { MAX_TENSOR_RANK, MAX_TENSORS_PER_REQUEST, inferRequestSchema } from '../contract/infer-request-schema.ts';
import { GatewayError } from '../errors.ts';
import type { Result } from '../result.ts';
import type { TensorDataError } from '../tensors/tensor-data-error.ts';
import { parseJsonBody } from './json-body.ts';
import type { ParseAllowance } from './json-body.ts';
import { formatZodIssues } from './zod-issues.ts';

export const HEADER_CONTENT_LENGTH = 'inference-header-content-length';
const BINARY_DATA_SIZE = 'binary_data_size';

export interface InferBodyLimits {
  readonly maxJsonDepth: number;
  readonly maxTensorElements: number;
  /** Inputs the model declares: the body may carry that many tensors' worth of array items. */
  readonly modelInputs: number;
}

export interface ParsedInferBody {
  readonly body: InferRequestBody;
  /** Raw bytes of inputs sent as binary, by their index in body.inputs. */
  readonly binaryInputs: ReadonlyMap<number, Uint8Array>;
  /**
   * JSON data already encoded to raw bytes (or the reason it could not be), by input index; their
   * `data` in `body` is then a placeholder. Set when a parse worker read the body.
   */
  readonly encodedInputs?: ReadonlyMap<number, Result<Uint8Array, TensorDataError>>;
}

/** Shapes hold numbers too, besides the tensors' data. */
const SHAPE_SCALARS = MAX_TENSORS_PER_REQUEST * MAX_TENSOR_RANK;

/** Heap of each parse thread: the size of the image's own (NODE_OPTIONS --max-old-space-size). */
export const PARSE_HEAP_MB = 256;

/**
 * Heap one parse may need, as estimated before parsing: three quarters of a parse thread's heap. A thread
 * that runs out of heap dies alone (413, see body-parse-pool.ts), but a parse on the event loop would
 * take the process with it, so the estimate (json-body.ts) errs high.
 */
export const MAX_PARSE_BYTES = (PARSE_HEAP_MB * 1024 * 1024 * 3) / 4;

/**
 * What a body may hold before it is parsed: every input's elements at the limit (and the numbers of
 * their shapes), within what one parse may cost.
 */
export function parseAllowance(limits: InferBodyLimits): ParseAllowance {
  return {
    maxScalars: limits.maxTensorElements * limits.modelInputs + SHAPE_SCALARS,
    // Built only for the error that quotes it.
    scalarsReason: () => `the model's ${limits.modelInputs} input(s) may hold ${limits.maxTensorElements} elements each (MAX_TENSOR_ELEMENTS)`,
    maxParseBytes: MAX_PARSE_BYTES,
  };
}

/** Bytes of the JSON part: all of them, or Inference-Header-Content-Length with the binary extension. */
export function jsonPartLength(bodyLength: number, headerLength: string | undefined): number {
  if (headerLength === undefined) return bodyLength;
  if (!/^\d+$/.test(headerLength.trim()) || Number(headerLength) > bodyLength) {
    throw new GatewayError(
      'INVALID_REQUEST',
      `header Inference-Header-Content-Length: "${headerLength}" must be a whole number no larger than the body (${bodyLength} bytes)`,
    );
  }
  return Number(headerLength);
}

/** The JSON part, checked as bytes, parsed, and checked against the protocol's schema. */
export function parseInferJson(json: Uint8Array, limits: InferBodyLimits): InferRequestBody {
  const parsed = inferRequestSchema.safeParse(parseJsonBody(json, limits.maxJsonDepth, parseAllowance(limits)));
  if (!parsed.success) throw new GatewayError('INVALID_REQUEST', formatZodIssues(parsed.error.issues));
  return parsed.data;
}

/** The whole body, read here on the event loop: for bodies small enough that parsing them is quick. */
export function parseInferBody(raw: Buffer, headerLength: string | undefined, limits: InferBodyLimits): ParsedInferBody {
  const jsonLength = jsonPartLength(raw.length, headerLength);
  const body = parseInferJson(raw.subarray(0, jsonLength), limits);
  return { body, binaryInputs: splitBinaryInputs(body, raw.subarray(jsonLength)) };
}

export function splitBinaryInputs(body: InferRequestBody, binary: Uint8Array): Map<number, Uint8Array> {
  const inputs = new Map<number, Uint8Array>();
  let offset = 0;
  body.inputs.forEach((input, index) => {
    const size = input.parameters?.[BINARY_DATA_SIZE];
    if (size === undefined) return;
    const field = `inputs[${index}] "${input.name}".parameters.binary_data_size`;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new GatewayError('INVALID_REQUEST', `${field}: must be a non-negative whole number, got ${JSON.stringify(size)}`);
    }
    if (offset + size > binary.length) {
      throw new GatewayError(
        'INVALID_REQUEST',
        `${field}: ${size} bytes announced but only ${binary.length - offset} bytes of binary data remain after the JSON part`,
      );
    }
    inputs.set(index, binary.subarray(offset, offset + size));
    offset += size;
  });
  if (offset !== binary.length) {
    throw new GatewayError(
      'INVALID_REQUEST',
      `body: ${binary.length - offset} bytes after the JSON part are not claimed by any input's binary_data_size (check Inference-Header-Content-Length)`,
    );
  }
  return inputs;
}
