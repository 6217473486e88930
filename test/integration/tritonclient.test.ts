// Triton's own Python client (tritonclient.http 2.73, from the Triton test venv) pointed at the GATEWAY
// instead of Triton, with its defaults: binary inputs (InferInput.set_data_from_numpy), binary outputs
// (InferRequestedOutput), numpy arrays in and out, BYTES as np.object_ arrays; plus the async API and
// the asyncio client with JSON tensors (binary_data=False), the health and metadata calls, and an error.
// tritonclient_check.py runs the calls and prints what the client got; this file compares it with
// onnxruntime's answer for the same model.onnx and with Triton's own metadata.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { provisionTriton } from '../support/real-triton/provision.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import type { ReferenceOutputs } from '../support/real-triton/reference-infer.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import { fp32Mismatches } from '../support/fp32-mismatches.ts';

const SCRIPT = fileURLToPath(new URL('./tritonclient_check.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 45_000;
const IMAGE_COUNT = 20;
/** Ordinary sentences, then the unusual ones: empty, blanks, non-ASCII, emoji, NUL, quotes, very long. */
const TEXT_RANGE = [70, 100] as const;

interface ClientTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly data: (number | string)[];
  readonly element_types?: string[];
}

interface ClientInferResult {
  readonly header: { model_name: string; model_version: string; id: string | null; outputs: Record<string, unknown>[] };
  readonly [output: string]: unknown;
}

/** What tritonclient_check.py prints. */
interface ClientSummary {
  readonly tritonclient_version: string | null;
  readonly errors: Record<string, string>;
  readonly [check: string]: unknown;
}

const digits = JSON.parse(readFileSync(new URL('../fixtures/digits-sample.json', import.meta.url), 'utf8')) as { images: number[][] };
const textSample = JSON.parse(readFileSync(new URL('../fixtures/texts-sample.json', import.meta.url), 'utf8')) as { texts: string[] };
const images = digits.images.slice(0, IMAGE_COUNT);
const texts = textSample.texts.slice(...TEXT_RANGE);

const real = useRealTriton({ server: { modelControl: 'explicit', loadModels: ['digits', 'text_topic'] } });
let gateway: TestGateway | undefined;
let digitsReference: ReferenceOutputs;
let textReference: ReferenceOutputs;
let summary: ClientSummary;
let scriptStderr = '';

beforeAll(async () => {
  let started: TestGateway;
  [digitsReference, textReference, started] = await Promise.all([
    referenceInfer({ model: 'digits', version: '2', inputs: { pixels: { shape: [images.length, 64], data: images.flat() } } }),
    referenceInfer({ model: 'text_topic', version: '1', inputs: { text: { shape: [texts.length, 1], data: texts } } }),
    startTestGateway(real.triton.grpcAddress),
  ]);
  gateway = started;
  const url = started.url;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
  const run = await runClient({ url: url.replace(/^http:\/\//, ''), images, texts });
  summary = run.summary;
  scriptStderr = run.stderr;
}, 60_000);

afterAll(async () => {
  await gateway?.close();
});

describe('tritonclient.http (Triton\'s own Python client) against the gateway', () => {
  it('runs every call without an exception', () => {
    expect(summary.errors, `tritonclient_check.py stderr:\n${scriptStderr}`).toEqual({});
  });

  it('health: is_server_live, is_server_ready, is_model_ready', () => {
    expect(pick(['is_server_live', 'is_server_ready', 'is_model_ready_digits', 'is_model_ready_unknown'])).toEqual({
      is_server_live: true,
      is_server_ready: true,
      is_model_ready_digits: true,
      is_model_ready_unknown: false,
    });
  });

  it('get_server_metadata, get_model_metadata and get_model_config read what Triton itself says', async () => {
    const server = summary['server_metadata'] as { name: string; version: string; extensions: string[] };
    const tritonServer = (await tritonJson('/v2')) as { name: string; version: string };
    expect(server).toMatchObject({ name: tritonServer.name, version: tritonServer.version });
    expect(server.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'model_repository']));
    expect(summary['model_metadata_digits']).toEqual(await tritonJson('/v2/models/digits'));
    expect(summary['model_metadata_text_topic']).toEqual(await tritonJson('/v2/models/text_topic'));
    expect(summary['model_config_digits']).toMatchObject({
      name: 'digits',
      max_batch_size: 64,
      input: [{ name: 'pixels', data_type: 'TYPE_FP32', dims: [64] }],
      output: [
        { name: 'probabilities', data_type: 'TYPE_FP32', dims: [10] },
        { name: 'label', data_type: 'TYPE_INT64', dims: [1] },
      ],
    });
  });

  it('digits with the defaults (binary in, binary out): float32 and int64 arrays equal to onnxruntime\'s', () => {
    const result = inferResult('digits_binary');
    expect(result.header).toMatchObject({ model_name: 'digits', model_version: '2', id: 'tc-digits' });
    // Outputs travel as raw bytes (any order: the client finds them by name).
    expect(Object.fromEntries(result.header.outputs.map((output) => [output['name'], output['parameters']]))).toEqual({
      probabilities: { binary_data_size: IMAGE_COUNT * 10 * 4 },
      label: { binary_data_size: IMAGE_COUNT * 8 },
    });
    expectDigits(result, IMAGE_COUNT);
  });

  it('digits with no outputs named: both outputs come back', () => {
    const result = inferResult('digits_all_outputs');
    expect(result.header).toMatchObject({ model_name: 'digits', model_version: '2' });
    expectDigits(result, 3);
  });

  it('digits through async_infer with JSON tensors (binary_data=False) both ways', () => {
    const result = inferResult('digits_json_async');
    expect(result.header).toMatchObject({ model_name: 'digits', model_version: '2', id: 'tc-async' });
    expect(result.header.outputs.every((output) => output['parameters'] === undefined || !('binary_data_size' in (output['parameters'] as object)))).toBe(true);
    expectDigits(result, IMAGE_COUNT);
  });

  it('text_topic with the defaults: np.object_ BYTES in and out, unusual strings included', () => {
    const result = inferResult('text_binary');
    expect(result.header).toMatchObject({ model_name: 'text_topic', model_version: '1', id: 'tc-text' });
    expectTexts(result, 'bytes');
  });

  it('text_topic through the asyncio client (tritonclient.http.aio) with JSON tensors', () => {
    const result = inferResult('text_json_aio');
    expect(result['model_ready']).toBe(true);
    expect(result.header).toMatchObject({ model_name: 'text_topic', model_version: '1', id: 'tc-aio' });
    expectTexts(result, 'str');
  });

  it('a refused request raises InferenceServerException with the gateway\'s status and message', () => {
    expect(summary['bad_shape']).toEqual({ status: '400', message: expect.stringMatching(/pixels.*63|63.*pixels/) });
  });
});

function expectDigits(result: ClientInferResult, rows: number): void {
  const probabilities = result['probabilities'] as ClientTensor;
  const label = result['label'] as ClientTensor;
  expect({ dtype: probabilities.dtype, shape: probabilities.shape }).toEqual({ dtype: 'float32', shape: [rows, 10] });
  expect({ dtype: label.dtype, shape: label.shape }).toEqual({ dtype: 'int64', shape: [rows, 1] });
  expect(fp32Mismatches(probabilities.data, referenceSlice(digitsReference, 'probabilities', rows * 10))).toEqual([]);
  expect(label.data).toEqual(referenceSlice(digitsReference, 'label', rows));
}

function expectTexts(result: ClientInferResult, elementType: string): void {
  const label = result['label'] as ClientTensor;
  const probabilities = result['probabilities'] as ClientTensor;
  expect({ dtype: label.dtype, shape: label.shape, element_types: label.element_types }).toEqual({ dtype: 'object', shape: [texts.length], element_types: [elementType] });
  expect(label.data).toEqual(referenceSlice(textReference, 'label', texts.length));
  expect({ dtype: probabilities.dtype, shape: probabilities.shape }).toEqual({ dtype: 'float32', shape: [texts.length, 3] });
  expect(fp32Mismatches(probabilities.data, referenceSlice(textReference, 'probabilities', texts.length * 3))).toEqual([]);
}

function inferResult(check: string): ClientInferResult {
  const result = summary[check];
  if (result === undefined) throw new Error(`tritonclient_check.py has no "${check}": ${summary.errors[check] ?? 'not run'}\nstderr:\n${scriptStderr}`);
  return result as ClientInferResult;
}

function pick(keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, summary[key] ?? `error: ${summary.errors[key] ?? 'missing'}`]));
}

function referenceSlice(outputs: ReferenceOutputs, name: string, count: number): (number | string)[] {
  const data = outputs[name]?.data;
  if (data === undefined) throw new Error(`reference has no output ${name}`);
  return data.slice(0, count);
}

/** Runs tritonclient_check.py with the venv's python; its stdout is the JSON summary. */
async function runClient(input: { url: string; images: number[][]; texts: string[] }): Promise<{ summary: ClientSummary; stderr: string }> {
  const { python } = await provisionTriton();
  return new Promise((resolve, reject) => {
    const child = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`tritonclient_check.py ended with ${signal ?? `exit code ${code}`}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      try {
        resolve({ summary: JSON.parse(stdout) as ClientSummary, stderr });
      } catch (error) {
        reject(new Error(`tritonclient_check.py printed no JSON (${String(error)})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** Triton's own HTTP answer, the yardstick. */
async function tritonJson(path: string): Promise<unknown> {
  const answer = await real.triton.request('GET', path);
  if (answer.status !== 200) throw new Error(`Triton GET ${path}: HTTP ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body);
}
