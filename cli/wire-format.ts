// Infer request bodies to HTTP bodies and answers back to JSON, in plain JSON or with the binary tensor
// data extension: inputs as raw little-endian bytes after the JSON header (`binary_data_size`), outputs
// asked for and read back the same way, with the JSON part's length in Inference-Header-Content-Length.
// The element codecs are the gateway's own (gateway/tensors), which are tested on their own.
import type { Result } from '../gateway/result.ts';
import { err, ok } from '../gateway/result.ts';
import { isDatatype } from '../gateway/tensors/datatype.ts';
import { encodeJsonData } from '../gateway/tensors/json-encoder.ts';
import { decodeRawData } from '../gateway/tensors/raw-decoder.ts';
import { checkedElementCount } from '../gateway/tensors/shape.ts';
import type { InferRequestBody } from './request-file.ts';

export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';
/** How deep a request's nested `data` may be when encoding it to bytes (the gateway's default limit). */
const MAX_DATA_DEPTH = 32;

export interface WireRequest {
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

export function jsonRequest(request: InferRequestBody): WireRequest {
  return { body: Buffer.from(JSON.stringify(request), 'utf8'), headers: { 'content-type': 'application/json' } };
}

/** Moves every input's `data` into raw bytes after the JSON, and asks for binary outputs. */
export function binaryRequest(request: InferRequestBody): Result<WireRequest, string> {
  const parts: Uint8Array[] = [];
  const inputs: Record<string, unknown>[] = [];
  for (let i = 0; i < request.inputs.length; i++) {
    const input = request.inputs[i] ?? {};
    const where = `inputs[${i}]${typeof input['name'] === 'string' ? ` "${input['name']}"` : ''}`;
    const { data, ...rest } = input;
    const datatype = input['datatype'];
    const shape = input['shape'];
    const parameters = isRecord(input['parameters']) ? input['parameters'] : {};
    if ('binary_data_size' in parameters) return err(`${where}: already says binary_data_size; a file can only carry JSON data`);
    if (data === undefined) return err(`${where}: no "data" to send`);
    if (typeof datatype !== 'string' || !isDatatype(datatype)) return err(`${where}: datatype ${JSON.stringify(datatype)} is not an Open Inference Protocol datatype`);
    if (!Array.isArray(shape) || !shape.every((dim) => typeof dim === 'number')) return err(`${where}: shape must be an array of numbers`);
    const count = checkedElementCount(shape as number[]);
    if (!count.ok) return err(`${where}: ${count.error.message}`);
    const bytes = encodeJsonData(datatype, data, count.value, MAX_DATA_DEPTH);
    if (!bytes.ok) return err(`${where}: data: ${bytes.error.message}`);
    parts.push(bytes.value);
    inputs.push({ ...rest, parameters: { ...parameters, binary_data_size: bytes.value.length } });
  }
  const requestParameters = isRecord(request['parameters']) ? request['parameters'] : {};
  const header = Buffer.from(JSON.stringify({ ...request, inputs, parameters: { binary_data_output: true, ...requestParameters } }), 'utf8');
  return ok({
    body: Buffer.concat([header, ...parts]),
    headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(header.length) },
  });
}

/**
 * The answer as JSON: a plain JSON body as is; a binary one with each binary output's bytes decoded
 * into `data` (and `binary_data_size` dropped), so both modes print the same thing.
 */
export function readAnswer(raw: Uint8Array, headerLength: string | null): Result<Record<string, unknown>, string> {
  const jsonLength = headerLength === null ? raw.length : Number(headerLength);
  if (!Number.isSafeInteger(jsonLength) || jsonLength < 0 || jsonLength > raw.length) {
    return err(`bad ${INFERENCE_HEADER_CONTENT_LENGTH} ${JSON.stringify(headerLength)} for a body of ${raw.length} bytes`);
  }
  const text = Buffer.from(raw.buffer, raw.byteOffset, jsonLength).toString('utf8');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    return err(`the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!isRecord(header)) return err(`the answer is not a JSON object: ${JSON.stringify(text.slice(0, 200))}`);
  if (headerLength === null || !Array.isArray(header['outputs'])) return ok(header);

  let offset = jsonLength;
  const outputs: unknown[] = [];
  for (const output of header['outputs'] as unknown[]) {
    if (!isRecord(output) || !isRecord(output['parameters']) || output['parameters']['binary_data_size'] === undefined) {
      outputs.push(output);
      continue;
    }
    const { binary_data_size: size, ...parameters } = output['parameters'];
    const name = String(output['name']);
    const datatype = output['datatype'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || offset + size > raw.length) {
      return err(`output "${name}": binary_data_size ${JSON.stringify(size)} runs past the end of the answer`);
    }
    if (typeof datatype !== 'string' || !isDatatype(datatype)) return err(`output "${name}": unknown datatype ${JSON.stringify(datatype)}`);
    const data = decodeRawData(datatype, raw.subarray(offset, offset + size));
    if (!data.ok) return err(`output "${name}": ${data.error.message}`);
    offset += size;
    const { parameters: _binary, ...rest } = output;
    outputs.push({ ...rest, ...(Object.keys(parameters).length > 0 ? { parameters } : {}), data: data.value });
  }
  if (offset !== raw.length) return err(`${raw.length - offset} bytes left after the last binary output`);
  return ok({ ...header, outputs });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
