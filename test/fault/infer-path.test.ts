// The request path end to end against the fault server: JSON and binary inputs and outputs, ids,
// metadata and config pass-through. (Real model outputs are checked against a real Triton elsewhere.)
import { describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../support/fake-triton-gateway.ts';
import { inferBodyOf } from '../support/responses.ts';

const fixture = useFakeTritonGateway();

const pixels = (rows: number) => Array.from({ length: rows * 4 }, (_, i) => i / 2);

describe('infer through the gateway', () => {
  it('answers JSON with each output, the serving version and the echoed id', async () => {
    const response = await fetch(`${fixture.gateway.url}/v2/models/fake_digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'req-7', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [2, 4], data: [[0, 0.5, 1, 1.5], [2, 2.5, 3, 3.5]] }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/.+/);
    const body = await inferBodyOf(response);
    expect(body).toEqual({
      model_name: 'fake_digits',
      model_version: '2',
      id: 'req-7',
      outputs: [
        { name: 'doubled', datatype: 'FP32', shape: [2, 4], data: pixels(2).map((v) => v * 2) },
        { name: 'label', datatype: 'INT64', shape: [2, 1], data: [0, 1] },
      ],
    });
  });

  it('routes a pinned version and only the requested outputs', async () => {
    const response = await fetch(`${fixture.gateway.url}/v2/models/fake_digits/versions/1/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }], outputs: [{ name: 'label' }] }),
    });
    const body = await inferBodyOf(response);
    expect(body.model_version).toBe('1');
    expect(body.outputs.map((o) => o.name)).toEqual(['label']);
  });

  it('takes binary inputs and returns binary outputs (binary tensor data extension)', async () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'pixels', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: data.byteLength } }],
        outputs: [{ name: 'doubled', parameters: { binary_data: true } }, { name: 'label', parameters: { binary_data: false } }],
      }),
    );
    const response = await fetch(`${fixture.gateway.url}/v2/models/fake_digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, Buffer.from(data.buffer)]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    const raw = Buffer.from(await response.arrayBuffer());
    const jsonLength = Number(response.headers.get('inference-header-content-length'));
    const json = JSON.parse(raw.subarray(0, jsonLength).toString('utf8'));
    expect(json.outputs[0]).toEqual({ name: 'doubled', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: 32 } });
    expect(json.outputs[1]).toEqual({ name: 'label', datatype: 'INT64', shape: [2, 1], data: [0, 1] });
    const doubled = new Float32Array(raw.subarray(jsonLength).buffer.slice(raw.byteOffset + jsonLength, raw.byteOffset + raw.length));
    expect([...doubled]).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  });

  it('serves BYTES tensors for an unbatched model', async () => {
    const response = await fetch(`${fixture.gateway.url}/v2/models/fake_text/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [2, 1], data: ['héllo', ''] }] }),
    });
    const body = await inferBodyOf(response);
    expect(body.outputs).toEqual([{ name: 'upper', datatype: 'BYTES', shape: [2], data: ['HÉLLO', ''] }]);
  });

  it('passes model metadata and config through', async () => {
    const metadata = await (await fetch(`${fixture.gateway.url}/v2/models/fake_digits`)).json();
    expect(metadata).toMatchObject({ name: 'fake_digits', versions: ['1', '2'], inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 4] }] });
    const config = await (await fetch(`${fixture.gateway.url}/v2/models/fake_digits/config`)).json();
    expect(config).toMatchObject({ name: 'fake_digits', max_batch_size: 8 });
    const server = await (await fetch(`${fixture.gateway.url}/v2`)).json();
    expect(server).toEqual({ name: 'fake-triton', version: '0.0.0', extensions: ['model_repository'] });
  });
});

describe('parameters', () => {
  it('forwards request and output parameters to Triton, without the transport ones', async () => {
    const response = await fetch(`${fixture.gateway.url}/v2/models/fake_digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        parameters: { priority: 2, tag: 'x', binary_data_output: false, ratio: 0.5, flag: true },
        inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
        outputs: [{ name: 'label', parameters: { classification: 1, binary_data: false } }],
      }),
    });
    expect(response.status).toBe(200);
    const forwarded = fixture.triton.inferRequests.at(-1);
    expect(forwarded?.parameters).toEqual({
      priority: { int64_param: 2 },
      tag: { string_param: 'x' },
      ratio: { double_param: 0.5 },
      flag: { bool_param: true },
    });
    expect(forwarded?.outputs).toEqual([{ name: 'label', parameters: { classification: { int64_param: 1 } } }]);
  });
});

describe('GET /v2', () => {
  it('advertises only extensions the gateway serves', async () => {
    const { serverExtensions } = fixture.triton;
    fixture.triton.serverExtensions = ['model_repository', 'system_shared_memory', 'statistics', 'binary_tensor_data'];
    try {
      const body = (await (await fetch(`${fixture.gateway.url}/v2`)).json()) as { extensions: string[] };
      expect(body.extensions).toEqual(['model_repository', 'binary_tensor_data']);
    } finally {
      // The other tests of the file share this fake Triton.
      fixture.triton.serverExtensions = serverExtensions;
    }
  });
});
