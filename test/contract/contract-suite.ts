// One contract, two backends: what a client of the gateway sees over HTTP must not depend on whether a
// real Triton (TRITON_GRPC_URL) or the embedded onnxruntime-node backend serves the models. Registered by
// triton.contract.test.ts and embedded.contract.test.ts with their backend; every expectation here is
// the same for both, except the fields that name the runtime (ContractBackend.runtime).
//
// 1. Correctness: 300 digits images and 100 texts answered exactly as onnxruntime does when it runs the
//    same model.onnx directly (model_repository/reference_infer.py): FP32 within 1e-5, INT64 and BYTES
//    exactly; JSON and binary inputs and outputs, batch sizes 1..64, the latest and a pinned version.
// 2. Model metadata and config, in full.
// 3. Errors: same status and code, whether the gateway refuses the request or the model does; a burst of
//    requests the model refuses costs the other clients nothing.
// 4. The output parameter classification (classification-cases.ts).
// 5. Liveness, readiness, model readiness, the repository index.
// 6. Version changes under a steady stream of unpinned requests: a version added (answers move to it),
//    removed (back), and a version that cannot load (nothing changes); no request fails and /ready stays
//    200 throughout.
// The tests of a file run in order; the version changes come last and leave the repository as they
// found it.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInferRequest, readInferResponse } from '../support/binary-infer.ts';
import type { DecodedInferResponse, DecodedOutput } from '../support/binary-infer.ts';
import { fp32Mismatches } from '../support/fp32-mismatches.ts';
import { eventually } from '../support/gateway-harness.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import type { ReferenceOutputs } from '../support/real-triton/reference-infer.ts';
import { RequestStream, versionTimeline } from '../support/request-stream.ts';
import type { RequestOutcome, RequestVerdict } from '../support/request-stream.ts';
import { classificationCases } from './classification-cases.ts';
import type { ContractBackend } from './contract-backend.ts';
import { notReady, readinessStory, sampleReadiness } from '../support/readiness-sampler.ts';
import type { ReadinessSample } from '../support/readiness-sampler.ts';

/** Batch sizes cycled through the samples: 1..64 (digits' max_batch_size), odd and even. */
const CHUNK_SIZES = [1, 2, 3, 7, 16, 33, 64, 5, 48];
const FORMATS = [
  { name: 'JSON in, JSON out', binaryIn: false, binaryOut: false },
  { name: 'binary in, binary out', binaryIn: true, binaryOut: true },
  { name: 'binary in, JSON out', binaryIn: true, binaryOut: false },
  { name: 'JSON in, binary out', binaryIn: false, binaryOut: true },
] as const;

/** Version changes: clients of the steady stream, their pause, and the images they cycle through. */
const STREAM_CLIENTS = 4;
const STREAM_PAUSE_MS = 5;
const STREAM_IMAGES = 8;
/** Consecutive answers from one version that say a swap is over. */
const SETTLED_ANSWERS = 40;
const SWAP_TIMEOUT_MS = 20_000;
const SWAP_TEST_TIMEOUT_MS = 60_000;
const READINESS_SAMPLE_MS = 25;
/** Requests the model refuses, sent in waves of concurrent ones: far more than the breaker's volume threshold. */
const REFUSED_WAVES = 5;
const REFUSED_WAVE_SIZE = 40;

const digits = readFixture<{ images: number[][]; labels: number[] }>('digits-sample.json');
const texts = readFixture<{ texts: string[]; labels: (string | null)[] }>('texts-sample.json');
const firstImage = digits.images[0] ?? [];

interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state?: string;
  readonly reason?: string;
}

export function contractSuite(backend: ContractBackend): void {
  /** onnxruntime's outputs for the whole digits sample, by version, and for the whole text sample. */
  const digitsReference = new Map<string, ReferenceOutputs>();
  let textReference: ReferenceOutputs = {};

  beforeAll(async () => {
    const pixels = { shape: [digits.images.length, 64], data: digits.images.flat() };
    const [v1, v2, text] = await Promise.all([
      referenceInfer({ model: 'digits', version: '1', inputs: { pixels } }),
      referenceInfer({ model: 'digits', version: '2', inputs: { pixels } }),
      referenceInfer({ model: 'text_topic', version: '1', inputs: { text: { shape: [texts.texts.length, 1], data: texts.texts } } }),
    ]);
    digitsReference.set('1', v1);
    digitsReference.set('2', v2);
    digitsReference.set('3', v1); // version 3 of the version-change tests is a copy of version 1
    textReference = text;
  }, 60_000);

  const url = (path: string): string => `${backend.gatewayUrl}${path}`;

  async function infer(model: string, version: string, request: Parameters<typeof buildInferRequest>[0]): Promise<DecodedInferResponse> {
    const { body, headers } = buildInferRequest(request);
    const path = version === '' ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${version}/infer`;
    const response = await fetch(url(path), { method: 'POST', headers, body });
    if (response.status !== 200) throw new Error(`POST ${path} (${request.id ?? ''}): HTTP ${response.status} ${await response.text()}`);
    return readInferResponse(response);
  }

  /** Every image of the sample through `version` ('' = latest), in chunks of 1..64; checked against `referenceVersion`. */
  async function expectDigitsLikeReference(version: string, answeredBy: string, referenceVersion: string, format: (typeof FORMATS)[number]): Promise<void> {
    const expected = digitsReference.get(referenceVersion);
    if (expected === undefined) throw new Error(`no reference for digits version ${referenceVersion}`);
    const chunks = chunk(digits.images.length, CHUNK_SIZES);
    const answers = await Promise.all(
      chunks.map(({ start, size }) =>
        infer('digits', version, {
          id: `digits-${start}`,
          inputs: [{ name: 'pixels', datatype: 'FP32', shape: [size, 64], data: digits.images.slice(start, start + size).flat(), binary: format.binaryIn }],
          outputs: [
            { name: 'probabilities', binary: format.binaryOut },
            { name: 'label', binary: format.binaryOut },
          ],
        }),
      ),
    );
    answers.forEach((answer, index) => {
      const { start, size } = chunks[index] ?? { start: 0, size: 0 };
      const where = `images ${start}..${start + size - 1}`;
      expect(answer.header).toMatchObject({ model_name: 'digits', model_version: answeredBy, id: `digits-${start}` });
      const probabilities = output(answer, 'probabilities');
      const label = output(answer, 'label');
      expect({ datatype: probabilities.datatype, shape: probabilities.shape, binary: probabilities.binary }).toEqual({ datatype: 'FP32', shape: [size, 10], binary: format.binaryOut });
      expect({ datatype: label.datatype, shape: label.shape, binary: label.binary }).toEqual({ datatype: 'INT64', shape: [size, 1], binary: format.binaryOut });
      expect(fp32Mismatches(probabilities.data, reference(expected, 'probabilities', start * 10, size * 10)), `probabilities of ${where}`).toEqual([]);
      expect(label.data, `labels of ${where}`).toEqual(reference(expected, 'label', start, size));
    });
  }

  describe(`[${backend.name}] correctness against onnxruntime`, () => {
    it('the reference classifies the digits sample like the README says (v2 test accuracy 0.9733)', () => {
      const labels = digitsReference.get('2')?.['label']?.data ?? [];
      const correct = labels.filter((label, row) => label === digits.labels[row]).length;
      expect(labels).toHaveLength(digits.images.length);
      expect(correct / labels.length).toBeGreaterThan(0.95);
    });

    describe.each(FORMATS)('digits: $name', (format) => {
      it.each(['', '2'])('version "%s" answers every image exactly as onnxruntime does', async (version) => {
        await expectDigitsLikeReference(version, '2', '2', format);
      });
    });

    describe.each(FORMATS)('text_topic (BYTES, no batching): $name', (format) => {
      it.each(['', '1'])('version "%s" answers every text, unusual ones included, exactly as onnxruntime does', async (version) => {
        const chunks = chunk(texts.texts.length, CHUNK_SIZES);
        const answers = await Promise.all(
          chunks.map(({ start, size }) =>
            infer('text_topic', version, {
              id: `text-${start}`,
              inputs: [{ name: 'text', datatype: 'BYTES', shape: [size, 1], data: texts.texts.slice(start, start + size), binary: format.binaryIn }],
              outputs: [
                { name: 'label', binary: format.binaryOut },
                { name: 'probabilities', binary: format.binaryOut },
              ],
            }),
          ),
        );
        answers.forEach((answer, index) => {
          const { start, size } = chunks[index] ?? { start: 0, size: 0 };
          const where = `texts ${start}..${start + size - 1}`;
          expect(answer.header).toMatchObject({ model_name: 'text_topic', model_version: '1', id: `text-${start}` });
          const label = output(answer, 'label');
          const probabilities = output(answer, 'probabilities');
          expect({ datatype: label.datatype, shape: label.shape, binary: label.binary }).toEqual({ datatype: 'BYTES', shape: [size], binary: format.binaryOut });
          expect({ datatype: probabilities.datatype, shape: probabilities.shape, binary: probabilities.binary }).toEqual({ datatype: 'FP32', shape: [size, 3], binary: format.binaryOut });
          const expectedLabels = reference(textReference, 'label', start, size);
          const wrongLabels = label.data.flatMap((value, row) => (value === expectedLabels[row] ? [] : [`text ${start + row} ${JSON.stringify(texts.texts[start + row])}: ${JSON.stringify(value)}, onnxruntime says ${JSON.stringify(expectedLabels[row])}`]));
          expect(wrongLabels, `labels of ${where}`).toEqual([]);
          expect(label.data, `labels of ${where}`).toHaveLength(size);
          expect(fp32Mismatches(probabilities.data, reference(textReference, 'probabilities', start * 3, size * 3)), `probabilities of ${where}`).toEqual([]);
        });
      });
    });

    it('answers with every output when none is requested', async () => {
      const all = await infer('digits', '', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: firstImage, binary: false }] });
      expect(all.outputs.map((o) => o.name).sort()).toEqual(['label', 'probabilities']);
      const one = await infer('digits', '', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: firstImage, binary: false }], outputs: [{ name: 'label', binary: false }] });
      expect(one.outputs.map((o) => o.name)).toEqual(['label']);
    });
  });

  describe(`[${backend.name}] model metadata and config`, () => {
    const digitsMetadata = () => ({
      name: 'digits',
      versions: ['2'],
      platform: backend.runtime.platform,
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 64] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
        { name: 'label', datatype: 'INT64', shape: [-1, 1] },
      ],
    });

    it.each(['/v2/models/digits', '/v2/models/digits/versions/2'])('GET %s: names, datatypes, shapes (-1 = batch), ready versions', async (path) => {
      expect(await getJson(url(path))).toEqual(digitsMetadata());
    });

    it.each(['/v2/models/text_topic', '/v2/models/text_topic/versions/1'])('GET %s: a model without batching', async (path) => {
      expect(await getJson(url(path))).toEqual({
        name: 'text_topic',
        versions: ['1'],
        platform: backend.runtime.platform,
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1, 1] }],
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        ],
      });
    });

    it.each(['/v2/models/digits/config', '/v2/models/digits/versions/2/config'])('GET %s: the whole config as Triton writes it', async (path) => {
      expect(await getJson(url(path))).toEqual({
        name: 'digits',
        platform: backend.runtime.configPlatform,
        backend: backend.runtime.backend,
        default_model_filename: backend.runtime.defaultModelFilename,
        max_batch_size: 64,
        version_policy: { latest: { num_versions: 1 } },
        input: [{ name: 'pixels', data_type: 'TYPE_FP32', dims: [64], format: 'FORMAT_NONE', is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
        output: [
          { name: 'probabilities', data_type: 'TYPE_FP32', dims: [10], label_filename: '' },
          { name: 'label', data_type: 'TYPE_INT64', dims: [1], label_filename: '', reshape: { shape: [] } },
        ],
        instance_group: [{ name: 'digits_0', kind: 'KIND_CPU', count: 1, gpus: [] }],
        parameters: {},
        dynamic_batching: { preferred_batch_size: [64], max_queue_delay_microseconds: 100, preserve_ordering: false },
      });
    });

    it('GET /v2/models/text_topic/config: the whole config as Triton writes it', async () => {
      expect(await getJson(url('/v2/models/text_topic/config'))).toEqual({
        name: 'text_topic',
        platform: backend.runtime.configPlatform,
        backend: backend.runtime.backend,
        default_model_filename: backend.runtime.defaultModelFilename,
        max_batch_size: 0,
        version_policy: { latest: { num_versions: 1 } },
        input: [{ name: 'text', data_type: 'TYPE_STRING', dims: [-1, 1], format: 'FORMAT_NONE', is_shape_tensor: false, allow_ragged_batch: false, optional: false }],
        output: [
          { name: 'label', data_type: 'TYPE_STRING', dims: [-1], label_filename: '' },
          { name: 'probabilities', data_type: 'TYPE_FP32', dims: [-1, 3], label_filename: '' },
        ],
        instance_group: [{ name: 'text_topic_0', kind: 'KIND_CPU', count: 1, gpus: [] }],
        parameters: {},
      });
    });
  });

  describe(`[${backend.name}] errors`, () => {
    const pixels = (rows: number): number[] => Array.from({ length: rows }, () => firstImage).flat();
    const digitsBody = (extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels(1) }], ...extra });
    const cases: readonly { what: string; method: 'GET' | 'POST'; path: string; body?: unknown; status: number; code: string; mentions: string }[] = [
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

    it.each(cases)('$what: $status $code', async ({ method, path, body, status, code, mentions }) => {
      const response = await fetch(url(path), { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
      const text = await response.text();
      expect({ status: response.status, code: codeOf(text) }, text).toEqual({ status, code });
      expect(JSON.parse(text), text).toEqual({ error: expect.stringContaining(mentions), code });
    });

    it('the same rejections with binary inputs and outputs', async () => {
      const wrongType = buildInferRequest({ inputs: [{ name: 'pixels', datatype: 'INT32', shape: [1, 64], data: pixels(1), binary: true }], outputs: [{ name: 'label', binary: true }] });
      const tooMany = buildInferRequest({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [65, 64], data: pixels(65), binary: true }] });
      const unknownOutput = buildInferRequest({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels(1), binary: true }], outputs: [{ name: 'no_such_output', binary: true }] });
      const answers = [];
      for (const { body, headers } of [wrongType, tooMany, unknownOutput]) {
        const response = await fetch(url('/v2/models/digits/infer'), { method: 'POST', headers, body });
        answers.push({ status: response.status, code: codeOf(await response.text()) });
      }
      expect(answers).toEqual([
        { status: 400, code: 'INVALID_INPUT' },
        { status: 400, code: 'INVALID_INPUT' },
        { status: 400, code: 'INVALID_OUTPUT' },
      ]);
    });

    it('none of them costs readiness', async () => {
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
        await eventually(async () => (await fetch(url('/ready'))).status === 200, 10_000, 50);
      }
    });
  });

  classificationCases(backend, {
    images: digits.images,
    texts: texts.texts,
    reference: () => ({ digits: digitsReference.get('2') ?? {}, text: textReference }),
  });

  describe(`[${backend.name}] liveness and readiness`, () => {
    it.each(['/health', '/v2/health/live'])('GET %s: 200 live', async (path) => {
      const response = await fetch(url(path));
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { live: true } });
    });

    it.each(['/ready', '/v2/health/ready'])('GET %s: 200 ready, both models named ready', async (path) => {
      const response = await fetch(url(path));
      expect({ status: response.status, body: await response.json() }).toMatchObject({
        status: 200,
        body: { ready: true, reasons: [], checks: { server: 'ready', models: { digits: 'ready', text_topic: 'ready' }, breaker: 'closed', draining: false } },
      });
    });

    it.each([
      ['/v2/models/digits/ready', 200, { name: 'digits', ready: true }],
      ['/v2/models/digits/versions/2/ready', 200, { name: 'digits', version: '2', ready: true }],
      ['/v2/models/text_topic/ready', 200, { name: 'text_topic', ready: true }],
      ['/v2/models/nope/ready', 404, { error: 'unknown model "nope"', code: 'MODEL_NOT_FOUND' }],
      ['/v2/models/digits/versions/9/ready', 404, { error: 'unknown version "9" of model "digits"', code: 'MODEL_NOT_FOUND' }],
    ] as const)('GET %s: %i', async (path, status, body) => {
      const response = await fetch(url(path));
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body });
    });

    // Triton's own HTTP index leaves out an empty reason; the gateway passes Triton's index on.
    it.each([{}, { ready: true }])('POST /v2/repository/index %j: every version with its state, in Triton\'s form', async (body) => {
      const response = await fetch(url('/v2/repository/index'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect({ status: response.status, body: sortIndex((await response.json()) as IndexEntry[]) }).toEqual({
        status: 200,
        body: [
          { name: 'digits', version: '2', state: 'READY' },
          { name: 'text_topic', version: '1', state: 'READY' },
        ],
      });
    });
  });

  describe(`[${backend.name}] version changes in the model repository`, () => {
    /** 4 clients, one image per request, no pinned version, every answer checked against its version's reference. */
    function startStream(): RequestStream {
      return new RequestStream({
        clients: STREAM_CLIENTS,
        pauseMs: STREAM_PAUSE_MS,
        send: async (client, seq) => {
          const image = (client * 3 + seq) % STREAM_IMAGES;
          const response = await fetch(url('/v2/models/digits/infer'), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id: `c${client}-${seq}`, inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: digits.images[image] }] }),
          });
          const text = await response.text();
          if (response.status !== 200) return { status: response.status, problem: `HTTP ${response.status} ${text} (Retry-After: ${response.headers.get('retry-after') ?? '-'})` };
          return judge(image, text);
        },
      });
    }

    function judge(image: number, text: string): RequestVerdict {
      const body = JSON.parse(text) as { model_name?: string; model_version?: string; outputs?: { name: string; data: number[] }[] };
      const version = body.model_version ?? '';
      const verdict = (problem?: string): RequestVerdict => ({ status: 200, version, ...(problem === undefined ? {} : { problem }) });
      const expected = digitsReference.get(version);
      if (body.model_name !== 'digits' || expected === undefined) return verdict(`answer names model ${String(body.model_name)} version "${version}"`);
      const probabilities = body.outputs?.find((o) => o.name === 'probabilities')?.data ?? [];
      const label = body.outputs?.find((o) => o.name === 'label')?.data ?? [];
      const off = fp32Mismatches(probabilities, reference(expected, 'probabilities', image * 10, 10));
      if (off.length > 0) return verdict(`image ${image}: probabilities are not version ${version}'s: ${off.join(', ')}`);
      const expectedLabel = reference(expected, 'label', image, 1);
      if (JSON.stringify(label) !== JSON.stringify(expectedLabel)) return verdict(`image ${image}: label ${JSON.stringify(label)}, version ${version} says ${JSON.stringify(expectedLabel)}`);
      return verdict();
    }

    async function digitsIndex(): Promise<IndexEntry[]> {
      const response = await fetch(url('/v2/repository/index'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (response.status !== 200) throw new Error(`POST /v2/repository/index: HTTP ${response.status} ${await response.text()}`);
      return sortIndex(((await response.json()) as IndexEntry[]).filter((entry) => entry.name === 'digits'));
    }

    /** The READY versions once nothing is loading or unloading; ['busy'] while something is. */
    async function settledVersions(): Promise<string> {
      const entries = await digitsIndex();
      if (entries.some((entry) => entry.state === 'LOADING' || entry.state === 'UNLOADING')) return 'busy';
      return entries.filter((entry) => entry.state === 'READY').map((entry) => entry.version ?? '').join();
    }

    async function metadataVersions(): Promise<string> {
      const response = await fetch(url('/v2/models/digits'));
      return response.status === 200 ? ((await response.json()) as { versions: string[] }).versions.join() : `HTTP ${response.status}`;
    }

    /** Waits until the stream, the index and the metadata all say only `version` serves. */
    async function settledOn(stream: RequestStream, version: string): Promise<void> {
      let last = '';
      try {
        await eventually(async () => {
          last = `index ${await settledVersions()}, metadata versions ${await metadataVersions()}, stream ${versionTimeline(stream.outcomes.slice(-SETTLED_ANSWERS))}`;
          return stream.lastServedBy(version, SETTLED_ANSWERS) && last.startsWith(`index ${version}, metadata versions ${version},`);
        }, SWAP_TIMEOUT_MS, 50);
      } catch {
        expect.fail(`only version ${version} never settled in ${SWAP_TIMEOUT_MS} ms: ${last}`);
      }
    }

    /** /ready sampled during the swaps of the first test, read by the second. */
    let swapReadiness: ReadinessSample[] = [];

    it('adding version 3 (a copy of 1) moves unpinned answers to it with v1\'s outputs; removing it moves them back to 2; no request fails', async () => {
      const stream = startStream();
      const readiness = sampleReadiness(url('/ready'));
      const marks: string[] = [];
      try {
        await settledOn(stream, '2');
        marks.push(`${stream.now()} ms: version 3 added`);
        await backend.addVersion('digits', 3, 1);
        await settledOn(stream, '3');
        marks.push(`${stream.now()} ms: only version 3 serves`);
        await backend.removeVersion('digits', 3);
        marks.push(`${stream.now()} ms: version 3 removed`);
        await settledOn(stream, '2');
        marks.push(`${stream.now()} ms: only version 2 serves again`);
      } finally {
        await Promise.all([stream.stop(), readiness.stop()]);
        swapReadiness = readiness.samples;
      }
      const story = `${marks.join('\n')}\n${versionTimeline(stream.outcomes)}`;
      expect(describeFailures(stream.failures()), story).toEqual([]);
      expect(stream.outcomes.filter((outcome) => outcome.version === '3').length, story).toBeGreaterThanOrEqual(SETTLED_ANSWERS);
      for (let client = 0; client < STREAM_CLIENTS; client++) {
        const sequence = collapse(stream.outcomes.filter((outcome) => outcome.client === client).map((outcome) => outcome.version ?? '?'));
        expect(sequence, `client ${client}: ${story}`).toEqual(['2', '3', '2']);
      }
    }, SWAP_TEST_TIMEOUT_MS);

    // Every request was served, so the gateway must not tell the load balancer it cannot serve.
    it('/ready stays 200 while the versions are swapped', () => {
      expect(swapReadiness.length, 'readiness samples taken during the swaps').toBeGreaterThan(10);
      expect(notReady(swapReadiness), readinessStory(swapReadiness)).toEqual([]);
    });

    it('while version 3 is there, it answers every image as version 1 does, pinned and unpinned', { timeout: SWAP_TEST_TIMEOUT_MS }, async () => {
      await backend.addVersion('digits', 3, 1);
      try {
        await eventually(async () => (await settledVersions()) === '3' && (await metadataVersions()) === '3', SWAP_TIMEOUT_MS, 50);
        await expectDigitsLikeReference('3', '3', '1', FORMATS[1]);
        await expectDigitsLikeReference('', '3', '1', FORMATS[0]);
        const pinnedOld = await fetch(url('/v2/models/digits/versions/2/infer'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(digitsBodyOf(firstImage)) });
        const text = await pinnedOld.text();
        // Version 2 was unloaded by the policy (latest 1): Triton knows it, it is not ready.
        expect({ status: pinnedOld.status, code: codeOf(text) }, text).toEqual({ status: 503, code: 'MODEL_NOT_READY' });
      } finally {
        await backend.removeVersion('digits', 3);
        await eventually(async () => (await settledVersions()) === '2' && (await metadataVersions()) === '2', SWAP_TIMEOUT_MS, 50);
      }
    });

    /** /ready sampled while the broken version was tried, read by the next test. */
    let brokenReadiness: ReadinessSample[] = [];

    it('a version whose model.onnx is broken changes nothing: version 2 keeps serving, no request fails', async () => {
      const stream = startStream();
      const readiness = sampleReadiness(url('/ready'));
      let failed: IndexEntry | undefined;
      try {
        await settledOn(stream, '2');
        await backend.addBrokenVersion('digits', 4);
        await eventually(async () => {
          failed = (await digitsIndex()).find((entry) => entry.version === '4' && entry.state === 'UNAVAILABLE' && entry.reason !== undefined && entry.reason !== '' && entry.reason !== 'unloaded');
          return failed !== undefined;
        }, SWAP_TIMEOUT_MS, 50);
        // Traffic through a few more polls of the repository, which see the same broken version.
        const failedAtMs = stream.now();
        await eventually(() => stream.startedSince(failedAtMs + 2 * backend.repositoryPollMs + 200).length >= SETTLED_ANSWERS, 10_000, 50);
      } finally {
        await Promise.all([stream.stop(), readiness.stop()]);
        brokenReadiness = readiness.samples;
      }
      const story = `index entry of version 4: ${JSON.stringify(failed)}\n${versionTimeline(stream.outcomes)}`;
      expect(describeFailures(stream.failures()), story).toEqual([]);
      expect(new Set(stream.outcomes.map((outcome) => outcome.version)), story).toEqual(new Set(['2']));
      expect(await metadataVersions()).toBe('2');
    }, SWAP_TEST_TIMEOUT_MS);

    it('/ready stays 200 while the broken version is there', () => {
      expect(brokenReadiness.length, 'readiness samples taken').toBeGreaterThan(10);
      expect(notReady(brokenReadiness), readinessStory(brokenReadiness)).toEqual([]);
    });

    it('the broken version is known and not ready: 503 for its readiness and for requests pinned to it', async () => {
      const ready = await fetch(url('/v2/models/digits/versions/4/ready'));
      expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 503, body: { name: 'digits', version: '4', ready: false } });
      const pinned = await fetch(url('/v2/models/digits/versions/4/infer'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(digitsBodyOf(firstImage)) });
      const text = await pinned.text();
      expect({ status: pinned.status, code: codeOf(text) }, text).toEqual({ status: 503, code: 'MODEL_NOT_READY' });
      const model = await fetch(url('/v2/models/digits/ready'));
      expect(model.status).toBe(200);
    });

    it('removing the broken version leaves version 2 serving and the gateway ready', async () => {
      await backend.removeVersion('digits', 4);
      await sleep(2 * backend.repositoryPollMs + 200);
      // Version 2 serves and nothing else does. (Not "no version busy": Triton in poll mode keeps
      // retrying a model with a failed version, and on a loaded machine it can stay LOADING for long.)
      await eventually(async () => {
        const ready = (await digitsIndex()).filter((entry) => entry.state === 'READY').map((entry) => entry.version ?? '');
        return ready.join() === '2';
      }, SWAP_TIMEOUT_MS, 50);
      expect((await infer('digits', '', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: firstImage, binary: false }] })).header['model_version']).toBe('2');
      let last = '';
      try {
        await eventually(async () => {
          const response = await fetch(url('/ready'));
          last = `${response.status} ${await response.text()}`;
          return response.status === 200;
        }, 5 * backend.repositoryPollMs + 1000, 50);
      } catch {
        expect.fail(`/ready after the broken version was removed: ${last}`);
      }
    }, SWAP_TEST_TIMEOUT_MS);
  });
}

function describeFailures(failures: readonly RequestOutcome[]): string[] {
  return failures.map((failure) => `${failure.startedMs}..${failure.endedMs} ms client ${failure.client} #${failure.seq}: ${failure.problem ?? ''}`);
}

/** Runs of equal values collapsed: 2 2 3 3 2 -> 2 3 2. */
function collapse(values: readonly string[]): string[] {
  return values.filter((value, index) => index === 0 || value !== values[index - 1]);
}

/** How many times each answer came: {"400 BACKEND_REJECTED": 40}. */
function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function digitsBodyOf(image: readonly number[]): unknown {
  return { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: image }] };
}

function codeOf(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : `(no code) ${text}`;
  } catch {
    return `(not JSON) ${text}`;
  }
}

function sortIndex(entries: IndexEntry[]): IndexEntry[] {
  return entries.sort((a, b) => `${a.name}/${a.version ?? ''}`.localeCompare(`${b.name}/${b.version ?? ''}`));
}

function output(answer: DecodedInferResponse, name: string): DecodedOutput {
  const found = answer.outputs.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no output ${name} in ${JSON.stringify(answer.header)}`);
  return found;
}

function reference(outputs: ReferenceOutputs, name: string, start: number, count: number): (number | string)[] {
  const data = outputs[name]?.data;
  if (data === undefined) throw new Error(`reference has no output ${name}`);
  return data.slice(start, start + count);
}

/** Consecutive chunks of the sample with sizes cycling through `sizes` (the last one clipped). */
function chunk(total: number, sizes: readonly number[]): { start: number; size: number }[] {
  const chunks: { start: number; size: number }[] = [];
  for (let start = 0, index = 0; start < total; index++) {
    const size = Math.min(sizes[index % sizes.length] ?? 1, total - start);
    chunks.push({ start, size });
    start += size;
  }
  return chunks;
}

async function getJson(target: string): Promise<unknown> {
  const response = await fetch(target);
  if (response.status !== 200) throw new Error(`GET ${target}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
