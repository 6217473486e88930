// Bounded work before parsing, through the gateway: refusals decided before the body is read (parse
// budget, full queue) come at once; compressed bodies are bounded by ratio and size; values are counted
// on the raw bytes; JSON is strict UTF-8 and charsets other than UTF-8 are refused; and a body parsed
// in a worker gets the same answers as one parsed inline.
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../../support/fake-triton-gateway.ts';
import { errorOf, inferBodyOf } from '../../support/responses.ts';

const fixture = useFakeTritonGateway({
  BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
  MAX_TENSOR_ELEMENTS: '10000',
  PARSE_BUDGET_BYTES: '8192',
  MAX_INFLATE_RATIO: '100',
  QUEUE_LIMIT_ROWS: '1',
  MAX_INFLIGHT_BATCHES: '1',
});
const inWorker = useFakeTritonGateway({ PARSE_OFFLOAD_BYTES: '0' });

const DIGITS = '/v2/models/fake_digits/infer';
const json = { 'content-type': 'application/json' };
const pixels = (data: unknown, extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data, ...extra }] });

function post(url: string, body: string | Buffer, headers: Record<string, string> = json): Promise<Response> {
  return fetch(`${url}${DIGITS}`, { method: 'POST', headers, body });
}

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Sends a request head announcing `length` body bytes and only `sent` of them, keeps the connection open
 * (keep-alive), and returns the answer, or undefined if none came within `waitMs`.
 */
function partialRequest(port: number, length: number, sent: string, waitMs = 3000): Promise<RawAnswer | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => finish(undefined), waitMs);
    const finish = (answer: RawAnswer | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (end < 0 || length === undefined || text.length < end + 4 + Number(length)) return;
      finish({ status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4) });
    });
    socket.on('error', () => finish(undefined));
    socket.write(`POST ${DIGITS} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${sent}`);
  });
}

describe('refused before the body is read', () => {
  it('answers 503 GATEWAY_BUSY with Retry-After while other bodies hold the parse budget', async () => {
    const port = fixture.gateway.gateway.port;
    // 6000 of the 8192 bytes: arrived (the budget is taken as bytes arrive), and held while the last byte does not come.
    const holder = partialRequest(port, 6001, `{"inputs":${' '.repeat(5990)}`, 1500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await partialRequest(port, 4000, '');
    expect(refused?.status).toBe(503);
    expect(refused?.head).toMatch(/retry-after: \d+/i);
    expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({ code: 'GATEWAY_BUSY' });
    expect(await holder).toBeUndefined();
    // Once the holder left, the budget is whole again.
    expect((await post(fixture.gateway.url, JSON.stringify(pixels([1, 2, 3, 4])))).status).toBe(200);
  });

  it("answers 429 QUEUE_FULL with Retry-After while the model's queue is full, without waiting for the body", async () => {
    fixture.triton.inferDelayMs = 1000;
    try {
      const busy = post(fixture.gateway.url, JSON.stringify(pixels([1, 2, 3, 4])));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await partialRequest(fixture.gateway.gateway.port, 100, '{"inp');
      expect(refused?.status).toBe(429);
      expect(refused?.head).toMatch(/retry-after: \d+/i);
      expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({ code: 'QUEUE_FULL' });
      expect((await busy).status).toBe(200);
    } finally {
      fixture.triton.inferDelayMs = 0;
    }
  });
});

describe('control requests', () => {
  it('refuses a large repository index body with 413 instead of parsing it', async () => {
    const body = JSON.stringify({ ready: true, padding: Array(200_000).fill(1) });
    const response = await fetch(`${fixture.gateway.url}/v2/repository/index`, { method: 'POST', headers: json, body });
    expect(response.status).toBe(413);
  });
});

describe('compressed bodies', () => {
  it('refuses a body that inflates more than MAX_INFLATE_RATIO times with 413', async () => {
    const zeros = JSON.stringify(pixels(Array(1_000_000).fill(0)));
    const response = await post(fixture.gateway.url, gzipSync(zeros), { ...json, 'content-encoding': 'gzip' });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).error).toContain('MAX_INFLATE_RATIO');
  });

  it('refuses a body that inflates beyond BODY_LIMIT_BYTES with 413', async () => {
    const large = JSON.stringify(pixels(Array.from({ length: 800_000 }, (_, i) => ((i * 7919) % 100_003) / 7)));
    const response = await post(fixture.gateway.url, gzipSync(large), { ...json, 'content-encoding': 'gzip' });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).error).toContain('inflates beyond');
  });

  it('reads a gzip body within its bounds', async () => {
    const response = await post(fixture.gateway.url, gzipSync(JSON.stringify(pixels([1, 2, 3, 4]))), { ...json, 'content-encoding': 'gzip' });
    expect(response.status).toBe(200);
  });

  it('refuses an unknown Content-Encoding with 415', async () => {
    const response = await post(fixture.gateway.url, JSON.stringify(pixels([1, 2, 3, 4])), { ...json, 'content-encoding': 'zstd' });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).error).toContain('Content-Encoding');
  });
});

describe('checked on the raw bytes', () => {
  it('refuses more numbers than the model may take with 400 TOO_LARGE_TENSOR before parsing', async () => {
    const response = await post(fixture.gateway.url, JSON.stringify(pixels(Array(50_000).fill(1))));
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'TOO_LARGE_TENSOR' });
    expect((await errorOf(await post(fixture.gateway.url, JSON.stringify(pixels(Array(50_000).fill(1)))))).error).toMatch(/^body: holds 50004 numbers/);
  });

  it('refuses invalid UTF-8 with 400 INVALID_JSON instead of replacing it', async () => {
    const body = Buffer.concat([Buffer.from('{"id":"a'), Buffer.from([0xff, 0xfe]), Buffer.from(`b",${JSON.stringify(pixels([1, 2, 3, 4])).slice(1)}`)]);
    const response = await post(fixture.gateway.url, body);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: 'INVALID_JSON', error: expect.stringContaining('UTF-8') });
  });

  it.each(['latin1', 'utf-16', 'ISO-8859-1'])('refuses charset=%s with 415', async (charset) => {
    const response = await post(fixture.gateway.url, JSON.stringify(pixels([1, 2, 3, 4])), { 'content-type': `application/json; charset=${charset}` });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).error).toContain(charset);
  });

  it.each(['utf-8', 'UTF-8', '"utf-8"', 'us-ascii'])('accepts charset=%s', async (charset) => {
    const response = await post(fixture.gateway.url, JSON.stringify(pixels([1, 2, 3, 4])), { 'content-type': `application/json; charset=${charset}` });
    expect(response.status).toBe(200);
  });
});

describe('parsed in a worker (PARSE_OFFLOAD_BYTES=0)', () => {
  // The pool starts its thread on the first large body; on a busy machine that alone may take seconds.
  beforeAll(async () => {
    await post(inWorker.gateway.url, '{}');
  });

  it('answers a valid request as inline parsing does', async () => {
    const response = await post(inWorker.gateway.url, JSON.stringify({ id: 'é-1', ...pixels([[1, 2], [3, 4]]) }));
    expect(response.status).toBe(200);
    const answer = await inferBodyOf(response);
    expect(answer.id).toBe('é-1');
    expect(answer.outputs.find((output) => output.name === 'doubled')?.data).toEqual([2, 4, 6, 8]);
  });

  it('answers a request with binary tensor data', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] }));
    const body = Buffer.concat([header, Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer)]);
    const response = await post(inWorker.gateway.url, body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) });
    expect(response.status).toBe(200);
    expect((await inferBodyOf(response)).outputs.find((output) => output.name === 'doubled')?.data).toEqual([2, 4, 6, 8]);
  });

  it.each([
    ['a bad element', pixels([1, 'two', 3, 4])],
    ['a wrong count', pixels([1, 2, 3])],
    ['data and binary both', pixels([1, 2, 3, 4], { parameters: { binary_data_size: 0 } })],
    ['an unknown input', { inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }],
    ['a schema violation', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, -4], data: [1, 2, 3, 4] }] }],
  ])('gives %s the same error as inline parsing', async (_name, body) => {
    const [inline, worker] = await Promise.all([post(fixture.gateway.url, JSON.stringify(body)), post(inWorker.gateway.url, JSON.stringify(body))]);
    expect(worker.status).toBe(inline.status);
    expect(await errorOf(worker)).toEqual(await errorOf(inline));
  });
});
