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

export function sendInferResult(res: Response, result: InferResult, id: string | undefined, isBinary: (name: string) => boolean): void {
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
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(json));
    res.end(json);
    return;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
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
