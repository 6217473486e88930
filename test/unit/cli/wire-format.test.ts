// The CLI's request and answer encoding: the binary tensor data extension byte for byte, and answers
// decoded back to the JSON form (checked against bytes built here with typed arrays, not the codecs).
import { describe, expect, it } from 'vitest';
import { binaryRequest, jsonRequest, readAnswer } from '../../../cli/wire-format.ts';

const bytesOf = (array: Float32Array | BigInt64Array): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

describe('binaryRequest', () => {
  it('moves data after the JSON header, sets binary_data_size and asks for binary outputs', () => {
    const encoded = binaryRequest({
      id: 'r1',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 3], data: [[1.5, -2, 0]], parameters: { custom: 1 } }],
      outputs: [{ name: 'label', parameters: { binary_data: false } }],
    });
    if (!encoded.ok) throw new Error(encoded.error);
    const { body, headers } = encoded.value;
    expect(headers['content-type']).toBe('application/octet-stream');
    const headerLength = Number(headers['Inference-Header-Content-Length']);
    const header = JSON.parse(Buffer.from(body).subarray(0, headerLength).toString('utf8')) as Record<string, unknown>;
    expect(header).toEqual({
      id: 'r1',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 3], parameters: { custom: 1, binary_data_size: 12 } }],
      outputs: [{ name: 'label', parameters: { binary_data: false } }],
      parameters: { binary_data_output: true },
    });
    expect(Buffer.from(body).subarray(headerLength)).toEqual(bytesOf(Float32Array.from([1.5, -2, 0])));
  });

  it('keeps a request-level binary_data_output the file sets', () => {
    const encoded = binaryRequest({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [7] }], parameters: { binary_data_output: false } });
    if (!encoded.ok) throw new Error(encoded.error);
    const length = Number(encoded.value.headers['Inference-Header-Content-Length']);
    expect(JSON.parse(Buffer.from(encoded.value.body).subarray(0, length).toString('utf8'))).toMatchObject({ parameters: { binary_data_output: false } });
  });

  it.each([
    [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1] }, 'inputs[0] "x": data: expected 2 elements, got 1'],
    [{ name: 'x', datatype: 'FLOAT', shape: [1], data: [1] }, 'inputs[0] "x": datatype "FLOAT" is not'],
    [{ name: 'x', datatype: 'UINT8', shape: [1], data: [300] }, 'inputs[0] "x": data: element 0:'],
    [{ name: 'x', datatype: 'FP32', shape: [1] }, 'inputs[0] "x": no "data" to send'],
    [{ name: 'x', datatype: 'FP32', shape: [-1], data: [1] }, 'inputs[0] "x": shape [-1]'],
  ])('refuses an input it cannot encode: %j', (input, message) => {
    const encoded = binaryRequest({ inputs: [input] });
    expect(encoded.ok).toBe(false);
    if (!encoded.ok) expect(encoded.error).toContain(message);
  });

  it('leaves the JSON form untouched', () => {
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] };
    const encoded = jsonRequest(body);
    expect(encoded.headers['content-type']).toBe('application/json');
    expect(JSON.parse(Buffer.from(encoded.body).toString('utf8'))).toEqual(body);
  });
});

describe('readAnswer', () => {
  it('decodes binary outputs into data and drops binary_data_size', () => {
    const probabilities = bytesOf(Float32Array.from([0.25, 0.75]));
    const label = bytesOf(BigInt64Array.from([1n, 9007199254740993n]));
    const header = Buffer.from(JSON.stringify({
      model_name: 'm',
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: probabilities.length } },
        { name: 'json', datatype: 'INT32', shape: [1], data: [5] },
        { name: 'label', datatype: 'INT64', shape: [2], parameters: { binary_data_size: label.length, other: 'kept' } },
      ],
    }));
    const answer = readAnswer(Buffer.concat([header, probabilities, label]), String(header.length));
    if (!answer.ok) throw new Error(answer.error);
    expect(JSON.parse(JSON.stringify(answer.value))).toEqual({
      model_name: 'm',
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] },
        { name: 'json', datatype: 'INT32', shape: [1], data: [5] },
        { name: 'label', datatype: 'INT64', shape: [2], parameters: { other: 'kept' }, data: [1, 9007199254740992] },
      ],
    });
    // The exact INT64 survives in the printed text, beyond what a JSON number can hold.
    expect(JSON.stringify(answer.value)).toContain('9007199254740993');
  });

  it('reads a plain JSON answer, error answers included', () => {
    const answer = readAnswer(Buffer.from('{"error":"bad","code":"INVALID_INPUT"}'), null);
    expect(answer).toEqual({ ok: true, value: { error: 'bad', code: 'INVALID_INPUT' } });
  });

  it.each([
    ['a header length past the end', Buffer.from('{}'), '10', 'bad Inference-Header-Content-Length'],
    ['a header length that is not a number', Buffer.from('{}'), 'two', 'bad Inference-Header-Content-Length'],
    ['text that is not JSON', Buffer.from('<html>502</html>'), null, 'the answer is not JSON'],
    ['JSON that is not an object', Buffer.from('[1]'), null, 'the answer is not a JSON object'],
  ])('fails on %s', (_what, raw, length, message) => {
    const answer = readAnswer(raw, length);
    expect(answer.ok ? '' : answer.error).toContain(message);
  });

  it('fails when a binary output runs past the end or bytes are left over', () => {
    const header = Buffer.from('{"outputs":[{"name":"o","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":8}}]}');
    const short = readAnswer(Buffer.concat([header, Buffer.alloc(4)]), String(header.length));
    expect(short.ok ? '' : short.error).toContain('output "o": binary_data_size 8 runs past the end');
    const long = readAnswer(Buffer.concat([header, Buffer.alloc(12)]), String(header.length));
    expect(long.ok ? '' : long.error).toContain('4 bytes left after the last binary output');
  });
});
