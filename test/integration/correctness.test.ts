// The proof: a real tritonserver (started by the test, serving the python-backend twin of
// model_repository/) behind the gateway answers several hundred real inputs exactly as onnxruntime does
// when it runs the same model.onnx directly (model_repository/reference_infer.py). JSON and binary
// inputs and outputs, batch sizes 1..64, the latest and a pinned version, FP32, INT64 and BYTES.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInferRequest, readInferResponse } from '../support/binary-infer.ts';
import type { DecodedInferResponse, DecodedOutput } from '../support/binary-infer.ts';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import type { ReferenceOutputs } from '../support/real-triton/reference-infer.ts';
import { printTritonLogOnFailure } from '../support/real-triton/triton-log-on-failure.ts';
import { startTritonServer } from '../support/real-triton/triton-server.ts';
import type { TritonServerHandle } from '../support/real-triton/triton-server.ts';
import { createTwinRepository } from '../support/real-triton/twin-repository.ts';
import type { TwinRepository } from '../support/real-triton/twin-repository.ts';

const FP32_TOLERANCE = 1e-5;
/** Batch sizes cycled through the samples: 1..64 (digits' max_batch_size), odd and even. */
const CHUNK_SIZES = [1, 2, 3, 7, 16, 33, 64, 5, 48];
const FORMATS = [
  { name: 'JSON in, JSON out', binaryIn: false, binaryOut: false },
  { name: 'binary in, binary out', binaryIn: true, binaryOut: true },
  { name: 'binary in, JSON out', binaryIn: true, binaryOut: false },
  { name: 'JSON in, binary out', binaryIn: false, binaryOut: true },
] as const;

const digits = readFixture<{ images: number[][]; labels: number[] }>('digits-sample.json');
const texts = readFixture<{ texts: string[]; labels: (string | null)[] }>('texts-sample.json');

let twin: TwinRepository | undefined;
let triton: TritonServerHandle | undefined;
let gateway: TestGateway | undefined;
let digitsReference: ReferenceOutputs;
let textReference: ReferenceOutputs;

printTritonLogOnFailure(() => triton);

beforeAll(async () => {
  twin = await createTwinRepository();
  triton = await startTritonServer({ repository: twin.path, modelControl: 'poll' });
  [digitsReference, textReference] = await Promise.all([
    referenceInfer({ model: 'digits', version: '2', inputs: { pixels: { shape: [digits.images.length, 64], data: digits.images.flat() } } }),
    referenceInfer({ model: 'text_topic', version: '1', inputs: { text: { shape: [texts.texts.length, 1], data: texts.texts } } }),
    triton.waitReady(30_000),
  ]);
  gateway = await startTestGateway(triton.grpcAddress);
  const url = gateway.url;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
}, 90_000);

afterAll(async () => {
  try {
    await gateway?.close();
  } finally {
    try {
      await triton?.stop();
    } finally {
      await twin?.remove();
    }
  }
});

describe('the reference itself', () => {
  it('classifies the digits sample like the README says (v2 test accuracy 0.9733)', () => {
    const labels = digitsReference['label']?.data ?? [];
    const correct = labels.filter((label, row) => label === digits.labels[row]).length;
    expect(labels).toHaveLength(digits.images.length);
    expect(correct / labels.length).toBeGreaterThan(0.95);
  });
});

describe.each(FORMATS)('digits through the gateway and a real Triton: $name', (format) => {
  it.each(['', '2'])('version "%s" answers every image exactly as onnxruntime does', async (version) => {
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
      expect(answer.header).toMatchObject({ model_name: 'digits', model_version: '2', id: `digits-${start}` });
      const probabilities = output(answer, 'probabilities');
      const label = output(answer, 'label');
      expect({ datatype: probabilities.datatype, shape: probabilities.shape, binary: probabilities.binary }).toEqual({ datatype: 'FP32', shape: [size, 10], binary: format.binaryOut });
      expect({ datatype: label.datatype, shape: label.shape, binary: label.binary }).toEqual({ datatype: 'INT64', shape: [size, 1], binary: format.binaryOut });
      expect(fp32Mismatches(probabilities.data, reference(digitsReference, 'probabilities', start * 10, size * 10)), `probabilities of ${where}`).toEqual([]);
      expect(label.data, `labels of ${where}`).toEqual(reference(digitsReference, 'label', start, size));
    });
  });
});

describe.each(FORMATS)('text_topic (BYTES, no batching) through the gateway and a real Triton: $name', (format) => {
  it('answers every text, unusual ones included, exactly as onnxruntime does', async () => {
    const chunks = chunk(texts.texts.length, CHUNK_SIZES);
    const answers = await Promise.all(
      chunks.map(({ start, size }) =>
        infer('text_topic', '', {
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
      expect(label.data, `labels of ${where}`).toEqual(reference(textReference, 'label', start, size));
      expect(fp32Mismatches(probabilities.data, reference(textReference, 'probabilities', start * 3, size * 3)), `probabilities of ${where}`).toEqual([]);
    });
  });
});

describe('what the gateway says about the models', () => {
  it('mirrors the metadata of the real Triton', async () => {
    for (const model of ['digits', 'text_topic']) {
      expect(await getJson(`${gatewayUrl()}/v2/models/${model}`), model).toEqual(await tritonJson('GET', `/v2/models/${model}`));
    }
  });

  it('passes on the config fields clients read (max_batch_size, dims, reshape, version policy)', async () => {
    const config = await getJson(`${gatewayUrl()}/v2/models/digits/config`);
    expect(config).toMatchObject({
      name: 'digits',
      backend: 'python',
      max_batch_size: 64,
      version_policy: { latest: { num_versions: 1 } },
      input: [{ name: 'pixels', data_type: 'TYPE_FP32', dims: [64] }],
      output: [
        { name: 'probabilities', data_type: 'TYPE_FP32', dims: [10] },
        { name: 'label', data_type: 'TYPE_INT64', dims: [1], reshape: { shape: [] } },
      ],
      dynamic_batching: { max_queue_delay_microseconds: 100 },
    });
  });

  // Every field the gateway sends must be Triton's own (it once added "reshape": null and proto-loader's
  // "policy_choice" oneof marker); fields of Triton's that the project's proto leaves out may be missing.
  it('says nothing in the config JSON that Triton itself would not say', async () => {
    for (const model of ['digits', 'text_topic']) {
      const ours = await getJson(`${gatewayUrl()}/v2/models/${model}/config`);
      expect(await tritonJson('GET', `/v2/models/${model}/config`), model).toMatchObject(ours as object);
    }
  });

  it('routes no outputs requested to all outputs, and a version the policy did not load to 404', async () => {
    const all = await infer('digits', '', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: digits.images[0] ?? [], binary: false }] });
    expect(all.outputs.map((o) => o.name).sort()).toEqual(['label', 'probabilities']);
    const response = await fetch(`${gatewayUrl()}/v2/models/digits/versions/1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: digits.images[0] }] }),
    });
    expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 404, body: { error: expect.stringContaining('1') } });
  });
});

async function infer(model: string, version: string, request: Parameters<typeof buildInferRequest>[0]): Promise<DecodedInferResponse> {
  const { body, headers } = buildInferRequest(request);
  const path = version === '' ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${version}/infer`;
  const response = await fetch(`${gatewayUrl()}${path}`, { method: 'POST', headers, body });
  if (response.status !== 200) throw new Error(`POST ${path} (${request.id ?? ''}): HTTP ${response.status} ${await response.text()}`);
  return readInferResponse(response);
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

/** The first few elements that differ by more than the tolerance (absolute and relative), described. */
function fp32Mismatches(actual: readonly unknown[], expected: readonly (number | string)[]): string[] {
  const problems: string[] = [];
  if (actual.length !== expected.length) return [`${actual.length} elements, expected ${expected.length}`];
  actual.forEach((value, index) => {
    const want = Number(expected[index]);
    const ok = typeof value === 'number' && Math.abs(value - want) <= FP32_TOLERANCE + FP32_TOLERANCE * Math.abs(want);
    if (!ok && problems.length < 5) problems.push(`[${index}]: ${String(value)}, expected ${want}`);
  });
  return problems;
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

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

function gatewayUrl(): string {
  if (gateway === undefined) throw new Error('gateway not started');
  return gateway.url;
}

/** Triton's own HTTP answer, the yardstick for what the gateway says. */
async function tritonJson(method: string, path: string): Promise<unknown> {
  if (triton === undefined) throw new Error('triton not started');
  const answer = await triton.request(method, path);
  if (answer.status !== 200) throw new Error(`Triton ${method} ${path}: HTTP ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body);
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
