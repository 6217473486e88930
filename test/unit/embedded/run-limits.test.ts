// The embedded backend's caps on one run, which keep a small request from making ONNX Runtime allocate
// gigabytes (text_topic has max_batch_size 0: 1M one-byte texts, ~7 MB of binary request, took ~9 GB):
// rows of a model without batching (EMBEDDED_MAX_ROWS) and the bytes of the outputs a run may produce
// (EMBEDDED_MAX_OUTPUT_BYTES), estimated from the config before the run and checked exactly after it.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EMBEDDED_MAX_ROWS } from '../../../gateway/backends/embedded/run-limits.ts';
import type { EmbeddedBackend } from '../../../gateway/backends/embedded/embedded-backend.ts';
import { startTestGateway } from '../../support/gateway-harness.ts';
import { MODEL_REPOSITORY, callOptions, digitPixels, digitsRequest, failure, outputNamed, startBackend, stringsOf, textRequest } from './embedded-support.ts';

const started: EmbeddedBackend[] = [];
afterAll(async () => {
  await Promise.all(started.map((backend) => backend.close()));
});

async function backendWith(options: { maxRows?: number; maxOutputBytes?: number }): Promise<EmbeddedBackend> {
  const backend = await startBackend({ repository: MODEL_REPOSITORY, ...options });
  started.push(backend);
  return backend;
}

const texts = (rows: number): string[] => Array.from({ length: rows }, (_, i) => (i % 2 === 0 ? 'pizza' : 'the match'));

describe('rows of a model without batching (EMBEDDED_MAX_ROWS)', () => {
  it('refuses one row more than the cap with 400 TOO_LARGE_TENSOR naming the input and the limit; the cap itself runs', async () => {
    const backend = await backendWith({ maxRows: 40 });
    const error = await failure(backend.infer(textRequest(texts(41)), callOptions()));
    expect({ code: error.code, status: error.status }).toEqual({ code: 'TOO_LARGE_TENSOR', status: 400 });
    expect(error.message).toMatch(/input 'text'.*41 rows.*40.*EMBEDDED_MAX_ROWS/);
    const answer = await backend.infer(textRequest(texts(40)), callOptions());
    expect(stringsOf(outputNamed(answer.outputs, 'label'))).toHaveLength(40);
  });

  it(`has a default (${DEFAULT_EMBEDDED_MAX_ROWS} rows): one more is refused before onnxruntime sees it`, async () => {
    const backend = await backendWith({});
    const error = await failure(backend.infer(textRequest(texts(DEFAULT_EMBEDDED_MAX_ROWS + 1)), callOptions()));
    expect(error.code).toBe('TOO_LARGE_TENSOR');
    expect(error.message).toContain('EMBEDDED_MAX_ROWS');
  });

  it('does not apply to a model with batching (max_batch_size bounds its rows)', async () => {
    const backend = await backendWith({ maxRows: 1 });
    const answer = await backend.infer(digitsRequest(64), callOptions());
    expect(outputNamed(answer.outputs, 'label').shape).toEqual([64, 1]);
  });
});

describe('bytes of the outputs of one run (EMBEDDED_MAX_OUTPUT_BYTES)', () => {
  it('refuses before the run when the config dims x the rows already exceed the cap, naming the output and the limit', async () => {
    // text_topic: probabilities [-1, 3] FP32 = 12 bytes a row, label at least a 4-byte length a row: 100 rows >= 1600.
    const backend = await backendWith({ maxOutputBytes: 1000 });
    const error = await failure(backend.infer(textRequest(texts(100)), callOptions()));
    expect({ code: error.code, status: error.status }).toEqual({ code: 'TOO_LARGE_TENSOR', status: 400 });
    expect(error.message).toMatch(/output.*at least 1600 bytes.*1000.*EMBEDDED_MAX_OUTPUT_BYTES/);
  });

  it('counts only the outputs asked for, and checks the real size after the run (strings are known only then)', async () => {
    const backend = await backendWith({ maxOutputBytes: 1000 });
    // label only: estimated 4 bytes a row (800), really 4 + 4..10 bytes a row (>= 1600).
    const error = await failure(backend.infer(textRequest(texts(200), ['label']), callOptions()));
    expect(error.code).toBe('TOO_LARGE_TENSOR');
    expect(error.message).toMatch(/output 'label'.*\d+ bytes.*1000.*EMBEDDED_MAX_OUTPUT_BYTES/);
    const small = await backend.infer(textRequest(texts(10), ['label']), callOptions());
    expect(stringsOf(outputNamed(small.outputs, 'label'))).toHaveLength(10);
  });

  it('applies to a model with batching too: [rows] + dims of every output', async () => {
    // digits: probabilities 10 x 4 + label 8 = 48 bytes a row; 64 rows = 3072.
    const backend = await backendWith({ maxOutputBytes: 3071 });
    const error = await failure(backend.infer(digitsRequest(64), callOptions()));
    expect(error.code).toBe('TOO_LARGE_TENSOR');
    expect(error.message).toContain('3072 bytes');
    await expect(backend.infer(digitsRequest(63), callOptions())).resolves.toMatchObject({ model: 'digits' });
  });
});

describe('over HTTP', () => {
  it('EMBEDDED_MAX_ROWS and EMBEDDED_MAX_OUTPUT_BYTES reach the backend: 400 TOO_LARGE_TENSOR with the reason', async () => {
    const gateway = await startTestGateway(undefined, { MODEL_REPOSITORY, MODEL_POLL_INTERVAL_MS: '0', EMBEDDED_MAX_ROWS: '3', EMBEDDED_MAX_OUTPUT_BYTES: '1024' });
    try {
      const post = async (rows: number, outputs?: unknown) => {
        const body = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [rows, 1], data: texts(rows) }], ...(outputs === undefined ? {} : { outputs }) };
        const response = await fetch(`${gateway.url}/v2/models/text_topic/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as { code?: string; error?: string } };
      };
      expect((await post(3)).status).toBe(200);
      const rows = await post(4);
      expect({ status: rows.status, code: rows.body.code }).toEqual({ status: 400, code: 'TOO_LARGE_TENSOR' });
      expect(rows.body.error).toContain('EMBEDDED_MAX_ROWS');
      // digits, 64 rows: 3072 bytes of outputs.
      const pixels = { name: 'pixels', datatype: 'FP32', shape: [64, 64], data: Array.from(digitPixels(64)) };
      const response = await fetch(`${gateway.url}/v2/models/digits/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [pixels] }) });
      const bytes = (await response.json()) as { code?: string; error?: string };
      expect({ status: response.status, code: bytes.code }).toEqual({ status: 400, code: 'TOO_LARGE_TENSOR' });
      expect(bytes.error).toContain('EMBEDDED_MAX_OUTPUT_BYTES');
    } finally {
      await gateway.close();
    }
  });
});
