// What the parts of the contract suite share: the two samples (300 digits images, 100 texts), what
// onnxruntime answers for them when it runs the same model.onnx directly (model_repository/
// reference_infer.py), and the small HTTP helpers every part reads answers with.
import { readFileSync } from 'node:fs';
import { beforeAll, expect } from 'vitest';
import { buildInferRequest, readInferResponse } from '../support/binary-infer.ts';
import type { DecodedInferResponse, DecodedOutput, InferRequestParts } from '../support/binary-infer.ts';
import { fp32Mismatches } from '../support/fp32-mismatches.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import type { ReferenceOutputs } from '../support/real-triton/reference-infer.ts';
import type { ContractBackend } from './contract-backend.ts';

/** Batch sizes cycled through the samples: 1..64 (digits' max_batch_size), odd and even. */
const CHUNK_SIZES = [1, 2, 3, 7, 16, 33, 64, 5, 48];
const REFERENCE_HOOK_TIMEOUT_MS = 60_000;

/** The four ways of the binary tensor extension: inputs and outputs each as JSON or raw bytes. */
export const FORMATS = [
  { name: 'JSON in, JSON out', binaryIn: false, binaryOut: false },
  { name: 'binary in, binary out', binaryIn: true, binaryOut: true },
  { name: 'binary in, JSON out', binaryIn: true, binaryOut: false },
  { name: 'JSON in, binary out', binaryIn: false, binaryOut: true },
] as const;
export type TensorFormat = (typeof FORMATS)[number];

export const digits = readFixture<{ images: number[][]; labels: number[] }>('digits-sample.json');
export const texts = readFixture<{ texts: string[]; labels: (string | null)[] }>('texts-sample.json');
export const firstImage = digits.images[0] ?? [];

/** onnxruntime's outputs for the whole samples; read in tests and later hooks. */
export interface ReferenceAnswers {
  /** The digits sample through `version` of model_repository/digits ('3', the version-change tests' copy of 1, as 1). */
  digits(version: string): ReferenceOutputs;
  text(): ReferenceOutputs;
}

/** Computes onnxruntime's answers for both samples once, before the tests of the file. */
export function useReferenceAnswers(): ReferenceAnswers {
  const byVersion = new Map<string, ReferenceOutputs>();
  let text: ReferenceOutputs | undefined;
  beforeAll(async () => {
    const pixels = { shape: [digits.images.length, 64], data: digits.images.flat() };
    const [v1, v2, textOutputs] = await Promise.all([
      referenceInfer({ model: 'digits', version: '1', inputs: { pixels } }),
      referenceInfer({ model: 'digits', version: '2', inputs: { pixels } }),
      referenceInfer({ model: 'text_topic', version: '1', inputs: { text: { shape: [texts.texts.length, 1], data: texts.texts } } }),
    ]);
    byVersion.set('1', v1);
    byVersion.set('2', v2);
    byVersion.set('3', v1);
    text = textOutputs;
  }, REFERENCE_HOOK_TIMEOUT_MS);
  return {
    digits(version) {
      const outputs = byVersion.get(version);
      if (outputs === undefined) throw new Error(`no reference for digits version "${version}"${byVersion.size === 0 ? ' (not computed yet)' : ''}`);
      return outputs;
    },
    text() {
      if (text === undefined) throw new Error('text reference not computed yet');
      return text;
    },
  };
}

/** POST an inference request (JSON or binary) to `version` of `model` ('' = latest); anything but 200 throws. */
export async function infer(backend: ContractBackend, model: string, version: string, request: InferRequestParts): Promise<DecodedInferResponse> {
  const { body, headers } = buildInferRequest(request);
  const path = version === '' ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${version}/infer`;
  const response = await fetch(`${backend.gatewayUrl}${path}`, { method: 'POST', headers, body });
  if (response.status !== 200) throw new Error(`POST ${path} (${request.id ?? ''}): HTTP ${response.status} ${await response.text()}`);
  return readInferResponse(response);
}

/** Every image of the sample through `version` ('' = latest), in chunks of 1..64; checked against `referenceVersion`. */
export async function expectDigitsLikeReference(
  backend: ContractBackend,
  references: ReferenceAnswers,
  { version, answeredBy, referenceVersion, format }: { version: string; answeredBy: string; referenceVersion: string; format: TensorFormat },
): Promise<void> {
  const expected = references.digits(referenceVersion);
  const chunks = chunk(digits.images.length, CHUNK_SIZES);
  const answers = await Promise.all(
    chunks.map(({ start, size }) =>
      infer(backend, 'digits', version, {
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

/** Consecutive chunks of a sample with sizes cycling through 1..64 (the last one clipped). */
export function chunk(total: number, sizes: readonly number[] = CHUNK_SIZES): { start: number; size: number }[] {
  const chunks: { start: number; size: number }[] = [];
  for (let start = 0, index = 0; start < total; index++) {
    const size = Math.min(sizes[index % sizes.length] ?? 1, total - start);
    chunks.push({ start, size });
    start += size;
  }
  return chunks;
}

export function output(answer: DecodedInferResponse, name: string): DecodedOutput {
  const found = answer.outputs.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no output ${name} in ${JSON.stringify(answer.header)}`);
  return found;
}

/** `count` values of output `name` from `start` (in flattened order). */
export function reference(outputs: ReferenceOutputs, name: string, start: number, count: number): (number | string)[] {
  const data = outputs[name]?.data;
  if (data === undefined) throw new Error(`reference has no output ${name}`);
  return data.slice(start, start + count);
}

/** A JSON request of one image for digits. */
export function digitsBodyOf(image: readonly number[]): unknown {
  return { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: image }] };
}

/** The `code` of an error answer, or what the text is instead. */
export function codeOf(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : `(no code) ${text}`;
  } catch {
    return `(not JSON) ${text}`;
  }
}

export async function getJson(target: string): Promise<unknown> {
  const response = await fetch(target);
  if (response.status !== 200) throw new Error(`GET ${target}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** An entry of POST /v2/repository/index. */
export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state?: string;
  readonly reason?: string;
}

export function sortIndex(entries: IndexEntry[]): IndexEntry[] {
  return entries.sort((a, b) => `${a.name}/${a.version ?? ''}`.localeCompare(`${b.name}/${b.version ?? ''}`));
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
