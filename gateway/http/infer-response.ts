// Writes an infer result in the form the client asked for: JSON data, or (binary tensor data extension)
// outputs as raw bytes after a JSON header whose length is in Inference-Header-Content-Length.
import type { Response } from 'express';
import type { InferResult, RawTensor } from '../backends/backend.ts';
import type { InferRequestBody } from '../contract/infer-request-schema.ts';
import { GatewayError } from '../errors.ts';
import { decodeRawData } from '../tensors/raw-decoder.ts';
import { HEADER_CONTENT_LENGTH } from './infer-body.ts';

interface OutputBody {
  name: string;
  datatype: string;
  shape: readonly number[];
  parameters?: Record<string, number | boolean | string>;
  data?: unknown[];
}

/** Which outputs go back binary: the output's binary_data, else the request's binary_data_output. */
export function binaryOutputSelector(body: InferRequestBody): (name: string) => boolean {
  const all = body.parameters?.['binary_data_output'] === true;
  const perOutput = new Map((body.outputs ?? []).map((output) => [output.name, output.parameters?.['binary_data']]));
  return (name) => {
    const choice = perOutput.get(name);
    return typeof choice === 'boolean' ? choice : all;
  };
}

function tooLarge(bytes: number, maxBytes: number, atLeast: boolean): GatewayError {
  return new GatewayError(
    'RESPONSE_TOO_LARGE',
    `answer: ${atLeast ? 'at least ' : ''}${bytes} bytes, over the limit of ${maxBytes} (MAX_RESPONSE_BYTES); ask for fewer rows or outputs, or for binary outputs (binary_data_output)`,
  );
}

/**
 * A floor on the answer's size, known before any output is turned into JSON (which may cost more than
 * the answer is allowed to be): raw bytes for binary outputs, one digit and one comma per JSON element.
 */
function minimumAnswerBytes(result: InferResult, isBinary: (name: string) => boolean): number {
  let bytes = 0;
  for (const output of result.outputs) {
    bytes += isBinary(output.name) ? output.data.byteLength : 2 * output.shape.reduce((product, dim) => product * dim, 1);
  }
  return bytes;
}

/** Throws RESPONSE_TOO_LARGE (nothing written) when the answer would exceed `maxBytes`. */
export function sendInferResult(res: Response, result: InferResult, id: string | undefined, isBinary: (name: string) => boolean, maxBytes: number): void {
  const floor = minimumAnswerBytes(result, isBinary);
  if (floor > maxBytes) throw tooLarge(floor, maxBytes, true);
  const binaryParts: Uint8Array[] = [];
  const outputs = result.outputs.map((output): OutputBody => {
    if (isBinary(output.name)) {
      binaryParts.push(output.data);
      return { name: output.name, datatype: output.datatype, shape: output.shape, parameters: { binary_data_size: output.data.byteLength } };
    }
    return { name: output.name, datatype: output.datatype, shape: output.shape, data: jsonData(output) };
  });
  const header = {
    model_name: result.model,
    model_version: result.version,
    ...(id === undefined ? {} : { id }),
    outputs,
  };
  // Written with node's own calls, not res.json/res.send: those also look up charsets and check request
  // freshness (If-None-Match), which an infer answer never needs, on every request.
  res.statusCode = 200;
  if (binaryParts.length === 0) {
    const json = JSON.stringify(header);
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) throw tooLarge(bytes, maxBytes, false);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', bytes);
    res.end(json);
    return;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const bytes = binaryParts.reduce((sum, part) => sum + part.byteLength, json.length);
  if (bytes > maxBytes) throw tooLarge(bytes, maxBytes, false);
  const body = Buffer.concat([json, ...binaryParts]);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader(HEADER_CONTENT_LENGTH, String(json.length));
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

function jsonData(output: RawTensor): unknown[] {
  const decoded = decodeRawData(output.datatype, output.data);
  if (!decoded.ok) throw new GatewayError('BACKEND_ERROR', `output "${output.name}" from the backend: ${decoded.error.message}`);
  return decoded.value;
}
