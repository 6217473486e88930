// Reads an infer request body in either form of the protocol: plain JSON, or the binary tensor data
// extension (a JSON header of Inference-Header-Content-Length bytes followed by the inputs' raw bytes).
import type { Request } from 'express';
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import { inferRequestSchema } from '../contract/infer-request-schema.ts';
import { GatewayError } from '../errors.ts';
import { parseJsonBody } from './json-body.ts';
import { formatZodIssues } from './zod-issues.ts';

export const HEADER_CONTENT_LENGTH = 'inference-header-content-length';
const BINARY_DATA_SIZE = 'binary_data_size';

export interface ParsedInferBody {
  readonly body: InferRequestBody;
  /** Raw bytes of inputs sent as binary, by their index in body.inputs. */
  readonly binaryInputs: ReadonlyMap<number, Uint8Array>;
}

export function parseInferBody(req: Request, maxJsonDepth: number): ParsedInferBody {
  const raw = rawBody(req);
  const headerLength = req.get(HEADER_CONTENT_LENGTH);
  let jsonLength = raw.length;
  if (headerLength !== undefined) {
    if (!/^\d+$/.test(headerLength.trim()) || Number(headerLength) > raw.length) {
      throw new GatewayError(
        'INVALID_REQUEST',
        `header Inference-Header-Content-Length: "${headerLength}" must be a whole number no larger than the body (${raw.length} bytes)`,
      );
    }
    jsonLength = Number(headerLength);
  }
  const json = parseJsonBody(raw.subarray(0, jsonLength), maxJsonDepth);
  const parsed = inferRequestSchema.safeParse(json);
  if (!parsed.success) throw new GatewayError('INVALID_REQUEST', formatZodIssues(parsed.error.issues));
  const binaryInputs = splitBinaryInputs(parsed.data, raw.subarray(jsonLength));
  return { body: parsed.data, binaryInputs };
}

export function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function splitBinaryInputs(body: InferRequestBody, binary: Buffer): Map<number, Uint8Array> {
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
