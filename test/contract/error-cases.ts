// The contract's error cases: the same status and code from both backends, whether the gateway refuses
// the request or the model does, with JSON or binary tensors; none of them costs readiness, and a burst
// of requests the model refuses costs the other clients nothing.
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/gateway-harness.ts';
import { buildInferRequest } from '../support/binary-infer.ts';
import type { InferRequestParts } from '../support/binary-infer.ts';
import type { ContractBackend } from './contract-backend.ts';
import { codeOf, digitsBodyOf, firstImage } from './contract-samples.ts';

/** Requests the model refuses, sent in waves of concurrent ones: far more than the breaker's volume threshold. */
const REFUSED_WAVES = 5;
const REFUSED_WAVE_SIZE = 40;
const READY_AGAIN_MS = 10_000;

interface ErrorCase {
  readonly what: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly status: number;
  readonly code: string;
  /** What the message must name. */
  readonly mentions: string;
}

const pixels = (rows: number): number[] => Array.from({ length: rows }, () => firstImage).flat();
const digitsBody = (extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels(1) }], ...extra });

const CASES: readonly ErrorCase[] = [
  { what: 'infer on an unknown model', method: 'POST', path: '/v2/models/nope/infer', body: digitsBody(), status: 404, code: 'MODEL_NOT_FOUND', mentions: 'nope' },
  { what: 'metadata of an unknown model', method: 'GET', path: '/v2/models/nope', status: 404, code: 'MODEL_NOT_FOUND', mentions: 'nope' },
  { what: 'config of an unknown model', method: 'GET', path: '/v2/models/nope/config', status: 404, code: 'MODEL_NOT_FOUND', mentions: 'nope' },
  { what: 'infer on an unknown version', method: 'POST', path: '/v2/models/digits/versions/9/infer', body: digitsBody(), status: 404, code: 'MODEL_NOT_FOUND', mentions: '9' },
  { what: 'metadata of an unknown version', method: 'GET', path: '/v2/models/digits/versions/9', status: 404, code: 'MODEL_NOT_FOUND', mentions: '9' },
  { what: 'infer on a version the policy did not load', method: 'POST', path: '/v2/models/digits/versions/1/infer', body: digitsBody(), status: 404, code: 'MODEL_NOT_FOUND', mentions: '1' },
  {
    what: 'the wrong datatype',
    method: 'POST',
    path: '/v2/models/digits/infer',
    body: { inputs: [{ name: 'pixels', datatype: 'INT32', shape: [1, 64], data: pixels(1) }] },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: 'INT32',
  },
  {
    what: 'a batch above max_batch_size (65 > 64)',
    method: 'POST',
    path: '/v2/models/digits/infer',
    body: { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [65, 64], data: pixels(65) }] },
    status: 400,
    code: 'INVALID_INPUT',
    mentions: '65',
  },
  { what: 'an unknown output', method: 'POST', path: '/v2/models/digits/infer', body: digitsBody({ outputs: [{ name: 'no_such_output' }] }), status: 400, code: 'INVALID_OUTPUT', mentions: 'no_such_output' },
  // Valid for the gateway (dims [-1, 1]), refused by the model itself (onnxruntime's StringNormalizer
  // wants at least one row): the client's fault, so a 400 whichever backend runs the model.
  {
    what: 'zero texts for text_topic (the model refuses them)',
    method: 'POST',
    path: '/v2/models/text_topic/infer',
    body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [0, 1], data: [] }] },
    status: 400,
    code: 'BACKEND_REJECTED',
    mentions: 'StringNormalizer',
  },
];

/** The gateway's refusals again, with the tensors as raw bytes (digits). */
const BINARY_CASES: readonly { readonly request: InferRequestParts; readonly status: number; readonly code: string }[] = [
  { request: { inputs: [{ name: 'pixels', datatype: 'INT32', shape: [1, 64], data: pixels(1), binary: true }], outputs: [{ name: 'label', binary: true }] }, status: 400, code: 'INVALID_INPUT' },
  { request: { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [65, 64], data: pixels(65), binary: true }] }, status: 400, code: 'INVALID_INPUT' },
  { request: { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels(1), binary: true }], outputs: [{ name: 'no_such_output', binary: true }] }, status: 400, code: 'INVALID_OUTPUT' },
];

export function errorCases(backend: ContractBackend): void {
  const url = (path: string): string => `${backend.gatewayUrl}${path}`;

  async function send({ method, path, body }: ErrorCase): Promise<{ status: number; text: string }> {
    const response = await fetch(url(path), { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return { status: response.status, text: await response.text() };
  }

  async function sendBinary(request: InferRequestParts): Promise<{ status: number; code: string }> {
    const { body, headers } = buildInferRequest(request);
    const response = await fetch(url('/v2/models/digits/infer'), { method: 'POST', headers, body });
    return { status: response.status, code: codeOf(await response.text()) };
  }

  describe(`[${backend.name}] errors`, () => {
    it.each(CASES)('$what: $status $code', async (errorCase) => {
      const { status, text } = await send(errorCase);
      expect({ status, code: codeOf(text) }, text).toEqual({ status: errorCase.status, code: errorCase.code });
      expect(JSON.parse(text), text).toEqual({ error: expect.stringContaining(errorCase.mentions), code: errorCase.code });
    });

    it('the same rejections with binary inputs and outputs', async () => {
      const answers = [];
      for (const { request } of BINARY_CASES) answers.push(await sendBinary(request));
      expect(answers).toEqual(BINARY_CASES.map(({ status, code }) => ({ status, code })));
    });

    it('none of them costs readiness: /ready is 200 after all of them', async () => {
      for (const errorCase of CASES) await send(errorCase);
      for (const { request } of BINARY_CASES) await sendBinary(request);
      const response = await fetch(url('/ready'));
      expect(response.status, await response.text()).toBe(200);
    });

    // A request the model refuses is one client's mistake: it must not cost the other clients anything
    // (with Triton: it must not count against the circuit breaker).
    it('a burst of requests the model refuses costs no one else: a valid request right after is answered, /ready stays 200', async () => {
      const refused = JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [0, 1], data: [] }] });
      try {
        const burst: string[] = [];
        for (let wave = 0; wave < REFUSED_WAVES; wave++) {
          const answers = await Promise.all(
            Array.from({ length: REFUSED_WAVE_SIZE }, async () => {
              const response = await fetch(url('/v2/models/text_topic/infer'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: refused });
              return `${response.status} ${codeOf(await response.text())}`;
            }),
          );
          burst.push(...answers);
        }
        const valid = await fetch(url('/v2/models/digits/infer'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(digitsBodyOf(firstImage)) });
        const validText = await valid.text();
        const ready = await fetch(url('/ready'));
        const readyText = await ready.text();
        const story = `burst answers: ${JSON.stringify(tally(burst))}; then digits: ${valid.status} ${validText}; /ready: ${ready.status} ${readyText}`;
        expect({ digits: valid.status, ready: ready.status }, story).toEqual({ digits: 200, ready: 200 });
      } finally {
        // Whatever happened, later tests start from a ready gateway.
        await eventually(async () => (await fetch(url('/ready'))).status === 200, READY_AGAIN_MS, 50);
      }
    });
  });
}

/** How many times each answer came: {"400 BACKEND_REJECTED": 40}. */
function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
