// A table of malformed requests: each must get its documented 4xx status and error code, a message
// that names the field at fault, and must never reach Triton.
import { describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../../support/fake-triton-gateway.ts';
import { errorOf } from '../../support/responses.ts';

const BODY_LIMIT = 64 * 1024;

const fixture = useFakeTritonGateway({ BODY_LIMIT_BYTES: String(BODY_LIMIT), MAX_TENSOR_ELEMENTS: '10000', MAX_JSON_DEPTH: '16' });

interface Case {
  readonly name: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Sent as is (a string or bytes) instead of JSON-encoding `body`. */
  readonly raw?: string | Buffer;
  readonly status: number;
  readonly code: string;
  /** A piece of the message that names the field or input at fault. */
  readonly names: string | RegExp;
}

const DIGITS = '/v2/models/fake_digits/infer';
const TEXT = '/v2/models/fake_text/infer';
const pixels = (extra: Record<string, unknown> = {}) => ({ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4], ...extra });
const withInput = (extra: Record<string, unknown>) => ({ inputs: [pixels(extra)] });

function binaryBody(header: unknown, binary: Buffer, headerLength?: string): { raw: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    raw: Buffer.concat([json, binary]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength ?? String(json.length) },
  };
}

const fourFloats = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);

const CASES: readonly Case[] = [
  { name: 'body is not JSON', raw: '{"inputs": [', status: 400, code: 'INVALID_JSON', names: 'body' },
  { name: 'body is empty', raw: '', status: 400, code: 'INVALID_JSON', names: 'body: empty' },
  { name: 'body is a JSON array', body: [1, 2], status: 400, code: 'INVALID_REQUEST', names: 'body' },
  { name: 'inputs missing', body: { outputs: [] }, status: 400, code: 'INVALID_REQUEST', names: 'inputs' },
  { name: 'inputs empty', body: { inputs: [] }, status: 400, code: 'INVALID_REQUEST', names: 'inputs: at least one input' },
  { name: 'inputs not an array', body: { inputs: { name: 'pixels' } }, status: 400, code: 'INVALID_REQUEST', names: 'inputs' },
  { name: 'input name missing', body: { inputs: [{ datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }, status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].name' },
  { name: 'input name empty', body: withInput({ name: '' }), status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].name' },
  { name: 'shape missing', body: { inputs: [{ name: 'pixels', datatype: 'FP32', data: [1] }] }, status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].shape' },
  { name: 'negative dimension', body: withInput({ shape: [-1, 4] }), status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].shape[0]' },
  { name: 'fractional dimension', body: withInput({ shape: [1, 4.5] }), status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].shape[1]' },
  { name: 'rank above 32', body: withInput({ shape: Array.from({ length: 33 }, () => 1) }), status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].shape' },
  { name: 'unknown datatype', body: withInput({ datatype: 'FLOAT32' }), status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].datatype' },
  { name: 'lower-case datatype', body: withInput({ datatype: 'fp32' }), status: 400, code: 'INVALID_REQUEST', names: 'inputs[0].datatype' },
  { name: 'id not a string', body: { id: 7, inputs: [pixels()] }, status: 400, code: 'INVALID_REQUEST', names: 'id' },
  { name: 'parameters not an object', body: { parameters: 'fast', inputs: [pixels()] }, status: 400, code: 'INVALID_REQUEST', names: 'parameters' },
  { name: 'outputs entry without name', body: { inputs: [pixels()], outputs: [{}] }, status: 400, code: 'INVALID_REQUEST', names: 'outputs[0].name' },
  { name: 'input the model does not have', body: withInput({ name: 'pixel' }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixel"' },
  { name: 'input given twice', body: { inputs: [pixels(), pixels()] }, status: 400, code: 'INVALID_INPUT', names: 'inputs[1] "pixels": input given more than once' },
  { name: 'datatype differs from the model', body: withInput({ datatype: 'INT32' }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": datatype INT32' },
  { name: 'rank differs from the model', body: withInput({ shape: [4] }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": shape [4]' },
  { name: 'batch of 0 rows', body: withInput({ shape: [0, 4], data: [] }), status: 400, code: 'INVALID_INPUT', names: 'batch dimension 0' },
  { name: 'batch above max_batch_size', body: withInput({ shape: [9, 4], data: Array(36).fill(0) }), status: 400, code: 'INVALID_INPUT', names: "max_batch_size 8" },
  { name: 'inner dimension differs', body: withInput({ shape: [1, 5], data: [1, 2, 3, 4, 5] }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": shape [1,5]' },
  { name: 'too few elements', body: withInput({ data: [1, 2, 3] }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": data: expected 4 elements' },
  { name: 'ragged nested data', body: withInput({ data: [[1, 2], [3]] }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels"' },
  { name: 'string in FP32 data', body: withInput({ data: [1, 2, 'three', 4] }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": data: element 2' },
  { name: 'null in FP32 data', body: withInput({ data: [1, null, 3, 4] }), status: 400, code: 'INVALID_INPUT', names: 'element 1' },
  { name: 'FP32 value out of range', body: withInput({ data: [1, 2, 3, 1e39] }), status: 400, code: 'INVALID_INPUT', names: 'element 3' },
  { name: 'data missing', body: { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4] }] }, status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": "data" is required' },
  { name: 'number in BYTES data', path: TEXT, body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: [5] }] }, status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "text": data: element 0' },
  { name: 'unbatched model, wrong rank', path: TEXT, body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['a'] }] }, status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "text": shape [1]' },
  { name: 'tensor above MAX_TENSOR_ELEMENTS', path: TEXT, body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [20000, 1], data: [] }] }, status: 400, code: 'TOO_LARGE_TENSOR', names: 'inputs[0] "text": 20000 elements' },
  { name: 'output the model does not have', body: { inputs: [pixels()], outputs: [{ name: 'probs' }] }, status: 400, code: 'INVALID_OUTPUT', names: 'outputs[0] "probs"' },
  { name: 'output requested twice', body: { inputs: [pixels()], outputs: [{ name: 'label' }, { name: 'label' }] }, status: 400, code: 'INVALID_OUTPUT', names: 'outputs[1] "label": output requested more than once' },
  { name: 'JSON nested too deep', raw: `{"inputs": ${'['.repeat(40)}${']'.repeat(40)}}`, status: 400, code: 'INVALID_JSON', names: 'MAX_JSON_DEPTH' },
  { name: 'boolean in FP32 data', body: withInput({ data: [true, 2, 3, 4] }), status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": data: element 0' },
  { name: 'version is not a number', path: '/v2/models/fake_digits/versions/latest/infer', body: { inputs: [pixels()] }, status: 400, code: 'INVALID_REQUEST', names: 'version "latest"' },
  { name: 'unknown model', path: '/v2/models/nope/infer', body: { inputs: [pixels()] }, status: 404, code: 'MODEL_NOT_FOUND', names: 'model "nope"' },
  { name: 'unknown version', path: '/v2/models/fake_digits/versions/7/infer', body: { inputs: [pixels()] }, status: 404, code: 'MODEL_NOT_FOUND', names: 'version "7" of model "fake_digits"' },
  { name: 'body over the limit', raw: JSON.stringify({ inputs: [pixels({ data: Array(BODY_LIMIT).fill(1) })] }), status: 413, code: 'PAYLOAD_TOO_LARGE', names: 'BODY_LIMIT_BYTES' },
  { name: 'unsupported Content-Type', headers: { 'content-type': 'application/xml' }, raw: '<inputs/>', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', names: 'Content-Type' },
  { name: 'GET on the infer path', method: 'GET', status: 405, code: 'METHOD_NOT_ALLOWED', names: 'GET' },
  { name: 'model name that does not URL-decode', path: '/v2/models/%E0%A4%A/infer', body: { inputs: [pixels()] }, status: 400, code: 'INVALID_REQUEST', names: 'request' },
  { name: 'gzip body that is not gzip', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, raw: '{"inputs": []}', status: 400, code: 'INVALID_REQUEST', names: 'body: does not inflate as gzip' },
  { name: 'negative timeout parameter', body: { parameters: { timeout: -5 }, inputs: [pixels()] }, status: 400, code: 'INVALID_REQUEST', names: 'parameters.timeout' },
  { name: 'timeout header not a number', headers: { 'content-type': 'application/json', 'x-request-timeout-ms': 'soon' }, body: { inputs: [pixels()] }, status: 400, code: 'INVALID_REQUEST', names: 'X-Request-Timeout-Ms' },
  { name: 'unknown endpoint', path: '/v3/models/fake_digits/infer', status: 404, code: 'ROUTE_NOT_FOUND', names: '/v3/models' },
  {
    name: 'binary input with both data and binary_data_size',
    ...binaryBody({ inputs: [pixels({ parameters: { binary_data_size: 16 } })] }, fourFloats),
    status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": has both',
  },
  {
    name: 'binary_data_size larger than the binary part',
    ...binaryBody({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 32 } }] }, fourFloats),
    status: 400, code: 'INVALID_REQUEST', names: 'inputs[0] "pixels".parameters.binary_data_size',
  },
  {
    name: 'binary_data_size not a whole number',
    ...binaryBody({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 'sixteen' } }] }, fourFloats),
    status: 400, code: 'INVALID_REQUEST', names: 'binary_data_size',
  },
  {
    name: 'binary bytes not matching the shape',
    ...binaryBody({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 15 } }] }, fourFloats.subarray(0, 15)),
    status: 400, code: 'INVALID_INPUT', names: 'inputs[0] "pixels": binary data',
  },
  {
    name: 'binary bytes nobody claims',
    ...binaryBody({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] }, Buffer.concat([fourFloats, Buffer.from([1, 2])])),
    status: 400, code: 'INVALID_REQUEST', names: '2 bytes after the JSON part',
  },
  {
    name: 'Inference-Header-Content-Length not a number',
    ...binaryBody({ inputs: [pixels()] }, Buffer.alloc(0), 'abc'),
    status: 400, code: 'INVALID_REQUEST', names: 'Inference-Header-Content-Length',
  },
  {
    name: 'Inference-Header-Content-Length beyond the body',
    ...binaryBody({ inputs: [pixels()] }, Buffer.alloc(0), '100000'),
    status: 400, code: 'INVALID_REQUEST', names: 'Inference-Header-Content-Length',
  },
];

describe('malformed requests', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    const inferCallsBefore = fixture.triton.count('ModelInfer');
    const method = testCase.method ?? 'POST';
    const hasBody = method !== 'GET';
    const response = await fetch(`${fixture.gateway.url}${testCase.path ?? DIGITS}`, {
      method,
      headers: testCase.headers ?? { 'content-type': 'application/json' },
      ...(hasBody ? { body: testCase.raw ?? JSON.stringify(testCase.body) } : {}),
    });
    const error = await errorOf(response);
    expect({ status: response.status, code: error.code }).toEqual({ status: testCase.status, code: testCase.code });
    if (typeof testCase.names === 'string') expect(error.error).toContain(testCase.names);
    else expect(error.error).toMatch(testCase.names);
    expect(error.error).not.toMatch(/\n\s+at /); // never a stack trace
    expect(fixture.triton.count('ModelInfer')).toBe(inferCallsBefore);
  });

  it('never turns client-chosen model names into metric labels', async () => {
    const metrics = await (await fetch(`${fixture.gateway.url}/metrics`)).text();
    expect(metrics).not.toMatch(/model="nope"/);
    expect(metrics).toMatch(/route="infer",method="POST",status="404",model=""/);
  });

  it('sets Allow on 405', async () => {
    const response = await fetch(`${fixture.gateway.url}${DIGITS}`, { method: 'GET' });
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
  });
});
