// The Open Inference Protocol's binary tensor data extension, written independently of the gateway's
// own tensor code so tests do not check the gateway against itself: build a request whose inputs travel
// as raw little-endian bytes after the JSON header, and read a response whose outputs do.

export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

export type TensorValues = readonly number[] | readonly string[] | readonly boolean[];

export interface TensorInput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: TensorValues;
  /** Send as raw bytes after the JSON (binary_data_size) instead of JSON `data`. */
  readonly binary: boolean;
}

export interface RequestedOutput {
  readonly name: string;
  readonly binary: boolean;
}

export interface InferRequestParts {
  readonly id?: string;
  readonly inputs: readonly TensorInput[];
  readonly outputs?: readonly RequestedOutput[];
}

/** Body and headers of an infer request: plain JSON when nothing is binary, else JSON header + bytes. */
export function buildInferRequest(request: InferRequestParts): { body: Buffer; headers: Record<string, string> } {
  const parts: Buffer[] = [];
  const inputs = request.inputs.map((input) => {
    const base = { name: input.name, datatype: input.datatype, shape: input.shape };
    if (!input.binary) return { ...base, data: input.data };
    const bytes = encodeTensor(input.datatype, input.data);
    parts.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const outputs = request.outputs?.map((output) => ({ name: output.name, parameters: { binary_data: output.binary } }));
  const json = Buffer.from(JSON.stringify({ ...(request.id === undefined ? {} : { id: request.id }), inputs, ...(outputs === undefined ? {} : { outputs }) }), 'utf8');
  if (parts.length === 0) return { body: json, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([json, ...parts]),
    headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(json.length) },
  };
}

export interface DecodedOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: unknown[];
  /** Whether it came as raw bytes (binary_data_size) rather than JSON data. */
  readonly binary: boolean;
}

export interface DecodedInferResponse {
  readonly header: Record<string, unknown>;
  readonly outputs: readonly DecodedOutput[];
}

/** Reads a JSON or binary-extension infer response; throws with a precise reason when it is malformed. */
export async function readInferResponse(response: Response): Promise<DecodedInferResponse> {
  const raw = Buffer.from(await response.arrayBuffer());
  const headerLength = response.headers.get(INFERENCE_HEADER_CONTENT_LENGTH);
  const jsonLength = headerLength === null ? raw.length : Number(headerLength);
  if (!Number.isSafeInteger(jsonLength) || jsonLength > raw.length) throw new Error(`bad ${INFERENCE_HEADER_CONTENT_LENGTH}: ${headerLength} for ${raw.length} bytes`);
  const header = JSON.parse(raw.subarray(0, jsonLength).toString('utf8')) as Record<string, unknown>;
  const outputs = (header['outputs'] ?? []) as { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: Record<string, unknown> }[];
  let offset = jsonLength;
  const decoded = outputs.map((output): DecodedOutput => {
    const size = output.parameters?.['binary_data_size'];
    if (size === undefined) return { name: output.name, datatype: output.datatype, shape: output.shape, data: output.data ?? [], binary: false };
    if (typeof size !== 'number' || offset + size > raw.length) throw new Error(`output ${output.name}: binary_data_size ${String(size)} past the end of the body`);
    const bytes = raw.subarray(offset, offset + size);
    offset += size;
    return { name: output.name, datatype: output.datatype, shape: output.shape, data: decodeTensor(output.datatype, bytes), binary: true };
  });
  if (offset !== raw.length) throw new Error(`${raw.length - offset} bytes after the last binary output`);
  return { header, outputs: decoded };
}

const SIZES: Readonly<Record<string, number>> = { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8 };

/** Row-major little-endian bytes; BYTES elements are a 4-byte little-endian length, then UTF-8. */
export function encodeTensor(datatype: string, values: TensorValues): Buffer {
  if (datatype === 'BYTES') {
    return Buffer.concat(
      values.map((value) => {
        const bytes = Buffer.from(String(value), 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(bytes.length);
        return Buffer.concat([length, bytes]);
      }),
    );
  }
  const size = SIZES[datatype];
  if (size === undefined) throw new Error(`encodeTensor: datatype ${datatype} not supported by this helper`);
  const buffer = Buffer.alloc(size * values.length);
  values.forEach((value, index) => {
    const at = index * size;
    const number = Number(value);
    switch (datatype) {
      case 'BOOL': buffer.writeUInt8(value === true || number === 1 ? 1 : 0, at); break;
      case 'UINT8': buffer.writeUInt8(number, at); break;
      case 'INT8': buffer.writeInt8(number, at); break;
      case 'UINT16': buffer.writeUInt16LE(number, at); break;
      case 'INT16': buffer.writeInt16LE(number, at); break;
      case 'UINT32': buffer.writeUInt32LE(number, at); break;
      case 'INT32': buffer.writeInt32LE(number, at); break;
      case 'FP32': buffer.writeFloatLE(number, at); break;
      case 'FP64': buffer.writeDoubleLE(number, at); break;
      case 'UINT64': buffer.writeBigUInt64LE(BigInt(number), at); break;
      case 'INT64': buffer.writeBigInt64LE(BigInt(number), at); break;
      default: throw new Error(`encodeTensor: ${datatype}`);
    }
  });
  return buffer;
}

/** The inverse of encodeTensor: numbers (64-bit integers must be safe integers), booleans or strings. */
export function decodeTensor(datatype: string, bytes: Uint8Array): unknown[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === 'BYTES') {
    const values: string[] = [];
    for (let at = 0; at < buffer.length; ) {
      if (at + 4 > buffer.length) throw new Error(`BYTES: truncated length prefix at byte ${at}`);
      const length = buffer.readUInt32LE(at);
      if (at + 4 + length > buffer.length) throw new Error(`BYTES: element at byte ${at} claims ${length} bytes past the end`);
      values.push(buffer.toString('utf8', at + 4, at + 4 + length));
      at += 4 + length;
    }
    return values;
  }
  const size = SIZES[datatype];
  if (size === undefined) throw new Error(`decodeTensor: datatype ${datatype} not supported by this helper`);
  if (buffer.length % size !== 0) throw new Error(`${datatype}: ${buffer.length} bytes is not a whole number of ${size}-byte elements`);
  return Array.from({ length: buffer.length / size }, (_, index) => {
    const at = index * size;
    switch (datatype) {
      case 'BOOL': return buffer.readUInt8(at) !== 0;
      case 'UINT8': return buffer.readUInt8(at);
      case 'INT8': return buffer.readInt8(at);
      case 'UINT16': return buffer.readUInt16LE(at);
      case 'INT16': return buffer.readInt16LE(at);
      case 'UINT32': return buffer.readUInt32LE(at);
      case 'INT32': return buffer.readInt32LE(at);
      case 'FP32': return buffer.readFloatLE(at);
      case 'FP64': return buffer.readDoubleLE(at);
      case 'UINT64': return safeNumber(buffer.readBigUInt64LE(at));
      case 'INT64': return safeNumber(buffer.readBigInt64LE(at));
      default: throw new Error(`decodeTensor: ${datatype}`);
    }
  });
}

function safeNumber(value: bigint): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`64-bit value ${value} is not a safe JavaScript integer`);
  return number;
}
