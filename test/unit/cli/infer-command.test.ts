// The `triton-gateway infer` command, run as a child process (as a user runs it) against a gateway in
// front of the fake Triton: what it prints, its exit codes, the progress bar, and its messages for a bad
// file or an unreachable gateway.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../../support/fake-triton-gateway.ts';

const CLI = fileURLToPath(new URL('../../../cli/triton-gateway.ts', import.meta.url));
const PROGRESS_LINE = /\d+% \| (\d+)\/(\d+) \| ok (\d+) \| failed (\d+)/;

const fixture = useFakeTritonGateway();
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-infer-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[]): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env['TRITON_GATEWAY_URL'];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

async function inputFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

type Line = { index: number; ok: boolean; status: number | null; code?: string; error?: string; answer?: { outputs: { name: string; data: unknown[]; parameters?: unknown }[] } };

function lines(stdout: string): Line[] {
  return stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Line);
}

function output(line: Line | undefined, name: string): unknown[] | undefined {
  return line?.answer?.outputs.find((candidate) => candidate.name === name)?.data;
}

const image = (row: number): number[] => [row, row + 0.5, 2, 3];
const pixels = (count: number): { pixels: number[][] } => ({ pixels: Array.from({ length: count }, (_, row) => image(row)) });
const request = (data: number[], shape = [1, data.length]) => ({ inputs: [{ name: 'pixels', datatype: 'FP32', shape, data }] });

describe('triton-gateway --help', () => {
  it('prints the usage and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('triton-gateway infer --model NAME --input FILE');
    expect(run.stdout).toContain('--concurrency N');
  });
});

describe('triton-gateway infer', () => {
  it('sends one request body and prints the answer as one JSON line, without a progress bar', async () => {
    const file = await inputFile('one.json', request([1, 2, 3, 4]));
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', file]);
    expect(run.code).toBe(0);
    const [line, ...rest] = lines(run.stdout);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ index: 0, ok: true, status: 200 });
    expect(output(line, 'doubled')).toEqual([2, 4, 6, 8]);
    expect(output(line, 'label')).toEqual([0]);
    expect(run.stderr).toContain('1 request: 1 ok, 0 failed');
    expect(run.stderr).not.toMatch(PROGRESS_LINE);
  });

  it('sends many images concurrently, prints the answers in input order and shows a progress bar', async () => {
    const count = 40;
    const file = await inputFile('many.json', pixels(count));
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--version', '2', '--input', file, '--concurrency', '8']);
    expect(run.code).toBe(0);
    const answers = lines(run.stdout);
    expect(answers.map((line) => line.index)).toEqual(Array.from({ length: count }, (_, index) => index));
    answers.forEach((line, row) => {
      expect(line.ok).toBe(true);
      expect(output(line, 'doubled')).toEqual(image(row).map((value) => value * 2));
    });
    const last = run.stderr.split('\n').filter((text) => PROGRESS_LINE.test(text)).at(-1);
    expect(last, `no progress bar on stderr:\n${run.stderr}`).toBeDefined();
    expect(PROGRESS_LINE.exec(last ?? '')?.slice(1)).toEqual([String(count), String(count), String(count), '0']);
    expect(run.stderr).toContain(`${count} requests: ${count} ok, 0 failed`);
  });

  it('hides the progress bar with --no-progress and prints only a summary with --summary', async () => {
    const file = await inputFile('summary.json', pixels(5));
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', file, '--summary', '--no-progress']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(PROGRESS_LINE);
    const [summary, ...rest] = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({ requests: 5, ok: 5, failed: 0, errors: {} });
  });

  it('gives the same answers with --binary (binary tensor data both ways), decoded back to JSON', async () => {
    const file = await inputFile('binary.jsonl', [request([1, 2, 3, 4]), request([5, 6, 7, 8, 9, 10, 11, 12], [2, 4])].map((body) => JSON.stringify(body)).join('\n'));
    const asJson = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', file]);
    const before = fixture.triton.inferRequests.length;
    const asBinary = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', file, '--binary']);
    expect(asBinary.code).toBe(0);
    expect(fixture.triton.inferRequests.length).toBeGreaterThan(before);
    const binaryLines = lines(asBinary.stdout);
    expect(output(binaryLines[1], 'doubled')).toEqual([10, 12, 14, 16, 18, 20, 22, 24]);
    // The fake's label is the row's place in the batch Triton got, which micro-batching may change: check its form only.
    const labels = output(binaryLines[1], 'label');
    expect(labels).toHaveLength(2);
    expect(labels?.every((label) => Number.isInteger(label))).toBe(true);
    expect(binaryLines.flatMap((line) => line.answer?.outputs.map((out) => out.parameters) ?? [])).toEqual([undefined, undefined, undefined, undefined]);
    const doubled = (line: Line) => ({ index: line.index, doubled: output(line, 'doubled') });
    expect(binaryLines.map(doubled)).toEqual(lines(asJson.stdout).map(doubled));
  });

  it('reports a request the gateway rejects, goes on with the others and exits 1', async () => {
    const bodies = [request([1, 2, 3, 4]), request([1, 2, 3]), request([4, 3, 2, 1])];
    const file = await inputFile('mixed.jsonl', bodies.map((body) => JSON.stringify(body)).join('\n'));
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', file]);
    expect(run.code).toBe(1);
    const [first, bad, third] = lines(run.stdout);
    expect(first?.ok).toBe(true);
    expect(bad).toMatchObject({ index: 1, ok: false, status: 400, code: 'INVALID_INPUT' });
    expect(bad?.error).toContain('pixels');
    expect(third?.ok).toBe(true);
    expect(run.stderr).toContain('3 requests: 2 ok, 1 failed');
    expect(run.stderr).toContain('INVALID_INPUT x1');
  });

  it('exits 1 with MODEL_NOT_FOUND for an unknown model', async () => {
    const file = await inputFile('unknown-model.json', request([1, 2, 3, 4]));
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'no_such_model', '--input', file]);
    expect(run.code).toBe(1);
    expect(lines(run.stdout)[0]).toMatchObject({ ok: false, status: 404, code: 'MODEL_NOT_FOUND' });
  });
});

describe('triton-gateway infer: errors before sending', () => {
  it.each([
    ['not JSON', 'bad.json', '{"inputs": [', /bad input file: .*bad\.json: not valid JSON/],
    ['a bad JSON line', 'bad.jsonl', `${JSON.stringify(request([1, 2, 3, 4]))}\n{oops\n`, /bad\.jsonl line 2: not valid JSON/],
    ['another form', 'other.json', { images: [[1, 2]] }, /expected a JSON array of request bodies, JSON lines/],
    ['an empty array', 'empty.json', [], /holds no requests/],
    ['a body without inputs', 'no-inputs.json', [{ outputs: [] }], /element 0 of the array: "inputs" must be a non-empty array/],
    ['an image that is not numbers', 'bad-pixels.json', { pixels: [[1, 2, 3, 4], ['a']] }, /pixels\[1\] must be a non-empty array of numbers/],
  ])('exits 1 for a file with %s, naming the problem, and sends nothing', async (_what, name, content, message) => {
    const file = await inputFile(name, content);
    const before = fixture.triton.count('ModelInfer');
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(fixture.triton.count('ModelInfer')).toBe(before);
  });

  it('exits 1 for a file that does not exist', async () => {
    const run = await runCli(['infer', '--url', fixture.gateway.url, '--model', 'fake_digits', '--input', join(dir, 'missing.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/bad input file: cannot read .*missing\.json: no such file/);
  });

  it('exits 1 when the gateway cannot be reached, saying so', async () => {
    const port = await closedPort();
    const file = await inputFile('unreachable.json', pixels(3));
    const run = await runCli(['infer', '--url', `http://127.0.0.1:${port}`, '--model', 'fake_digits', '--input', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${port}/`);
    expect(run.stderr).toContain('ECONNREFUSED');
    expect(run.stdout).toBe('');
  });

  it.each([
    [['infer', '--input', 'x.json'], '--model is required'],
    [['infer', '--model', 'm', '--input', 'x.json', '--concurrency', '0'], '--concurrency: "0" must be a whole number'],
    [['infer', '--model', 'm', '--input', 'x.json', '--version', 'latest'], '--version: "latest" is not a whole number'],
    [['infer', '--model', 'm', '--input', 'x.json', '--url', 'localhost:8080'], 'must start with http:// or https://'],
    [['predict'], 'unknown command "predict"'],
    [['infer', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 1 for the usage error in %j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
