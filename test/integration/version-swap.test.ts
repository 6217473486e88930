// Operators swap model versions in the repository under live traffic (DESIGN.md: "lets operators swap
// model versions in the model repository without dropping requests"). A real tritonserver in poll mode
// (--repository-poll-secs=1) serves the python-backend twin of digits, version 1 only; 4 clients loop on
// the gateway without pinning a version and every single answer is checked: status 200, the version it
// says served it, and outputs equal to onnxruntime's for THAT version. Then version 2 is added (answers
// move to "2"), removed (back to "1"), and versions that cannot load are added (nothing changes, the
// failure is visible in the repository index). All along the gateway's /ready is sampled: it must stay
// 200, since every request is served. Triton's own strict readiness (the default) is false while any
// version loads or unloads and stays false after a failed load, so the gateway must not simply echo it.
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientDetails } from '../../gateway/backends/client-details.ts';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { referenceInfer } from '../support/real-triton/reference-infer.ts';
import type { ReferenceOutputs } from '../support/real-triton/reference-infer.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import { RequestStream, versionTimeline } from '../support/request-stream.ts';
import type { RequestOutcome, RequestVerdict } from '../support/request-stream.ts';
import { notReady, readinessStory, sampleReadiness } from '../support/readiness-sampler.ts';
import type { ReadinessSample, ReadinessSampler } from '../support/readiness-sampler.ts';

const FP32_TOLERANCE = 1e-5;
/** Images of the sample the clients cycle through (one image per request). */
const IMAGE_COUNT = 8;
const CLIENTS = 4;
const CLIENT_PAUSE_MS = 5;
/** Consecutive answers from one version that say a swap is over. */
const SETTLED_ANSWERS = 40;
const SWAP_TIMEOUT_MS = 20_000;
/** The two versions' probabilities of one image differ by at least this much (else the check is blind). */
const VERSIONS_APART = 1e-3;

interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state?: string;
  readonly reason?: string;
}

const images = (JSON.parse(readFileSync(new URL('../fixtures/digits-sample.json', import.meta.url), 'utf8')) as { images: number[][] }).images.slice(0, IMAGE_COUNT);

const real = useRealTriton({ twin: { models: { digits: [1] } }, server: { modelControl: 'poll' } });
let gateway: TestGateway | undefined;
const references = new Map<string, ReferenceOutputs>();

beforeAll(async () => {
  const pixels = { shape: [images.length, 64], data: images.flat() };
  const [v1, v2, started] = await Promise.all([
    referenceInfer({ model: 'digits', version: '1', inputs: { pixels } }),
    referenceInfer({ model: 'digits', version: '2', inputs: { pixels } }),
    startTestGateway(real.triton.grpcAddress),
  ]);
  references.set('1', v1);
  references.set('2', v2);
  gateway = started;
  const url = started.url;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
});

describe('versions swapped in a polled repository under live traffic', () => {
  /** /ready answers sampled while the versions were swapped (test 2 reads them). */
  let swapReadiness: ReadinessSample[] = [];
  /** /ready answers sampled while broken versions were added and removed (the last test reads them). */
  const brokenReadiness: { readonly phase: string; readonly samples: readonly ReadinessSample[] }[] = [];

  it('the two versions answer the sample differently, so every answer can be told apart', () => {
    for (let image = 0; image < images.length; image++) {
      const one = probabilitiesOf('1', image);
      const two = probabilitiesOf('2', image);
      const apart = Math.max(...one.map((value, index) => Math.abs(value - (two[index] ?? 0))));
      expect(apart, `image ${image}`).toBeGreaterThan(VERSIONS_APART);
    }
  });

  it('adding version 2 moves unpinned requests to it, removing it moves them back, and no request fails', async () => {
    const stream = startStream();
    const readiness = sampleGatewayReadiness();
    const marks: string[] = [];
    try {
      await eventually(() => stream.lastServedBy('1', SETTLED_ANSWERS), SWAP_TIMEOUT_MS, 20);

      marks.push(`${stream.now()} ms: version 2 added`);
      await real.twin.addVersion('digits', 2);
      await eventually(async () => stream.lastServedBy('2', SETTLED_ANSWERS) && (await settledVersions()).join() === '2', SWAP_TIMEOUT_MS, 50);
      marks.push(`${stream.now()} ms: only version 2 serves (Triton index: ${JSON.stringify(await digitsIndex())})`);

      marks.push(`${stream.now()} ms: version 2 removed`);
      await real.twin.removeVersion('digits', 2);
      await eventually(async () => stream.lastServedBy('1', SETTLED_ANSWERS) && (await settledVersions()).join() === '1', SWAP_TIMEOUT_MS, 50);
      marks.push(`${stream.now()} ms: only version 1 serves again (Triton index: ${JSON.stringify(await digitsIndex())})`);
    } finally {
      await Promise.all([stream.stop(), readiness.stop()]);
      swapReadiness = readiness.samples;
    }

    const outcomes = stream.outcomes;
    const story = `${marks.join('\n')}\n${versionTimeline(outcomes)}`;
    expect(describeFailures(stream.failures()), story).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.version === '2').length, story).toBeGreaterThanOrEqual(SETTLED_ANSWERS);
    expect(outcomes.filter((outcome) => outcome.version === '1').length, story).toBeGreaterThanOrEqual(2 * SETTLED_ANSWERS);
    // The answers move forward once and back once: 1...1 2...2 1...1 in order of arrival (each client).
    for (let client = 0; client < CLIENTS; client++) {
      const sequence = collapse(outcomes.filter((outcome) => outcome.client === client).map((outcome) => outcome.version ?? '?'));
      expect(sequence, `client ${client}: ${story}`).toEqual(['1', '2', '1']);
    }
  }, 60_000);

  // Every request was served (test above), so the gateway must not tell the load balancer it cannot
  // serve: a 503 from every gateway pod at once during each swap is the outage the swap was meant to avoid.
  it('/ready stays 200 while the versions are swapped', () => {
    expect(swapReadiness.length, 'readiness samples taken during the swap').toBeGreaterThan(20);
    expect(notReady(swapReadiness), readinessStory(swapReadiness)).toEqual([]);
  });

  it('a version that fails to load changes nothing: version 1 keeps serving and the index shows the failure', async () => {
    const stream = startStream();
    const readiness = sampleGatewayReadiness();
    let failedEntry: IndexEntry | undefined;
    let failedAtMs = 0;
    try {
      await eventually(() => stream.lastServedBy('1', SETTLED_ANSWERS), SWAP_TIMEOUT_MS, 20);
      const addedAtMs = stream.now();
      await real.twin.addVersion('digits', 2, { behaviour: { failLoad: true } });
      failedEntry = await failedVersion('2');
      failedAtMs = stream.now();
      // Keep the traffic going through at least two more polls of the repository (1 s each): Triton
      // retries the failed load on every poll.
      await eventually(() => stream.startedSince(failedAtMs + 2_200).length >= SETTLED_ANSWERS, 10_000, 50);
      expect(failedAtMs, 'Triton noticed the new version').toBeGreaterThan(addedAtMs);
    } finally {
      await Promise.all([stream.stop(), readiness.stop()]);
      brokenReadiness.push({ phase: 'version 2 fails to load (twin.json failLoad)', samples: readiness.samples });
    }

    const story = `${failedAtMs} ms: Triton index says ${JSON.stringify(failedEntry)}\n${versionTimeline(stream.outcomes)}`;
    expect(describeFailures(stream.failures()), story).toEqual([]);
    expect(new Set(stream.outcomes.map((outcome) => outcome.version)), story).toEqual(new Set(['1']));

    // Triton's index tells why the version failed; the gateway's index says the same.
    expect(failedEntry?.reason ?? '').toMatch(/told to fail loading/);
    await expectGatewayIndexLikeTritons();
    const gatewayIndex = await gatewayDigitsIndex();
    expect(gatewayIndex).toContainEqual({ name: 'digits', version: '1', state: 'READY' });
    expect(gatewayIndex).toContainEqual(expect.objectContaining({ name: 'digits', version: '2', state: expect.stringMatching(/^(UNAVAILABLE|LOADING)$/) }));
  }, 60_000);

  it('a version whose model.onnx is corrupt changes nothing either', async () => {
    const stream = startStream();
    const readiness = sampleGatewayReadiness();
    let failedEntry: IndexEntry | undefined;
    try {
      await eventually(() => stream.lastServedBy('1', SETTLED_ANSWERS), SWAP_TIMEOUT_MS, 20);
      await addCorruptVersion('digits', 3);
      failedEntry = await failedVersion('3');
      const failedAtMs = stream.now();
      await eventually(() => stream.startedSince(failedAtMs + 1_200).length >= SETTLED_ANSWERS, 10_000, 50);
    } finally {
      await Promise.all([stream.stop(), readiness.stop()]);
      brokenReadiness.push({ phase: 'version 3 has a corrupt model.onnx', samples: readiness.samples });
    }
    const story = `Triton index says ${JSON.stringify(failedEntry)}\n${versionTimeline(stream.outcomes)}`;
    expect(describeFailures(stream.failures()), story).toEqual([]);
    expect(new Set(stream.outcomes.map((outcome) => outcome.version)), story).toEqual(new Set(['1']));
    expect(failedEntry?.reason ?? '').toMatch(/INVALID_PROTOBUF|Protobuf parsing failed/);
    await expectGatewayIndexLikeTritons();
  }, 60_000);

  it('/ready stays 200 while broken versions are tried, and after they are removed', async () => {
    const readiness = sampleGatewayReadiness();
    try {
      await real.twin.removeVersion('digits', 3);
      await real.twin.removeVersion('digits', 2);
      // Two more polls of the repository (1 s each) after the removal.
      const removedAt = Date.now();
      await eventually(() => Date.now() > removedAt + 2_500, 5_000, 100);
    } finally {
      await readiness.stop();
      brokenReadiness.push({ phase: 'versions 2 and 3 removed', samples: readiness.samples });
    }
    const samples = brokenReadiness.flatMap((phase) => phase.samples);
    const story = brokenReadiness.map((phase) => `${phase.phase}:\n${readinessStory(phase.samples)}`).join('\n');
    expect(samples.length, 'readiness samples taken').toBeGreaterThan(20);
    expect(notReady(samples), `${story}\nTriton index now: ${JSON.stringify(await digitsIndex())}`).toEqual([]);
  }, 30_000);
});

/** 4 clients, one image per request, no pinned version, every answer checked against its version's reference. */
function startStream(): RequestStream {
  const url = requireGateway().url;
  return new RequestStream({
    clients: CLIENTS,
    pauseMs: CLIENT_PAUSE_MS,
    send: async (client, seq) => {
      const image = (client * 3 + seq) % images.length;
      const response = await fetch(`${url}/v2/models/digits/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `c${client}-${seq}`, inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: images[image] }] }),
      });
      const text = await response.text();
      if (response.status !== 200) return { status: response.status, problem: `HTTP ${response.status} ${text} (Retry-After: ${response.headers.get('retry-after') ?? '-'})` };
      return judge(image, text);
    },
  });
}

function judge(image: number, text: string): RequestVerdict {
  const body = JSON.parse(text) as { model_name?: string; model_version?: string; outputs?: { name: string; shape: number[]; data: number[] }[] };
  const version = body.model_version ?? '';
  const verdict = (problem: string | undefined): RequestVerdict => ({ status: 200, version, ...(problem === undefined ? {} : { problem }) });
  if (body.model_name !== 'digits' || !references.has(version)) return verdict(`answer names model ${String(body.model_name)} version "${version}"`);
  const probabilities = body.outputs?.find((output) => output.name === 'probabilities')?.data ?? [];
  const label = body.outputs?.find((output) => output.name === 'label')?.data ?? [];
  const expected = probabilitiesOf(version, image);
  const off = probabilities.length !== expected.length || probabilities.some((value, index) => Math.abs(value - (expected[index] ?? NaN)) > FP32_TOLERANCE);
  if (off) return verdict(`image ${image}: probabilities ${JSON.stringify(probabilities)} are not version ${version}'s ${JSON.stringify(expected)}`);
  const expectedLabel = references.get(version)?.['label']?.data[image];
  if (label.length !== 1 || label[0] !== expectedLabel) return verdict(`image ${image}: label ${JSON.stringify(label)}, version ${version} says ${String(expectedLabel)}`);
  return verdict(undefined);
}

function probabilitiesOf(version: string, image: number): number[] {
  const data = references.get(version)?.['probabilities']?.data;
  if (data === undefined) throw new Error(`no reference for version ${version}`);
  return data.slice(image * 10, image * 10 + 10).map(Number);
}

/** The gateway's GET /ready, with Triton's own readiness asked right after, every 25 ms until stopped. */
function sampleGatewayReadiness(): ReadinessSampler {
  return sampleReadiness(`${requireGateway().url}/ready`, async () => `Triton /v2/health/ready ${(await real.triton.request('GET', '/v2/health/ready')).status}`);
}

/** Waits until Triton's index shows the version failed to load (not merely unloaded), and returns its entry. */
async function failedVersion(version: string): Promise<IndexEntry> {
  let failed: IndexEntry | undefined;
  await eventually(async () => {
    failed = (await digitsIndex()).find((entry) => entry.version === version && entry.state === 'UNAVAILABLE' && entry.reason !== 'unloaded');
    return failed !== undefined;
  }, SWAP_TIMEOUT_MS, 50);
  if (failed === undefined) throw new Error('unreachable');
  return failed;
}

/**
 * The gateway's repository index is Triton's (asked a few times: Triton retries a failed load every
 * poll, so the state moves), with reasons as a client may see them: no server paths or tracebacks.
 */
async function expectGatewayIndexLikeTritons(): Promise<void> {
  let last = '';
  const asClientSees = (entries: readonly IndexEntry[]): IndexEntry[] =>
    entries.map((entry) => (entry.reason === undefined ? entry : { ...entry, reason: clientDetails(entry.reason) }));
  try {
    await eventually(async () => {
      const [before, ours, after] = [await digitsIndex(), await gatewayDigitsIndex(), await digitsIndex()];
      last = `Triton ${JSON.stringify(before)}, gateway ${JSON.stringify(ours)}`;
      return JSON.stringify(before) === JSON.stringify(after) && JSON.stringify(ours) === JSON.stringify(asClientSees(before));
    }, 10_000, 100);
  } catch {
    expect.fail(`the gateway's POST /v2/repository/index never matched Triton's: ${last}`);
  }
}

/** A version directory whose model.onnx is not an ONNX file, renamed into place at once like addVersion. */
async function addCorruptVersion(model: string, version: number): Promise<void> {
  const repository = real.twin.path;
  const aside = join(dirname(repository), 'staging', `corrupt-${model}-${version}`);
  await mkdir(aside, { recursive: true });
  await copyFile(join(repository, model, '1', 'model.py'), join(aside, 'model.py'));
  await writeFile(join(aside, 'model.onnx'), 'this is not an ONNX model\n');
  await rename(aside, join(repository, model, String(version)));
}

/** One line per failed request: when, which client, what came back. */
function describeFailures(failures: readonly RequestOutcome[]): string[] {
  return failures.map((failure) => `${failure.startedMs}..${failure.endedMs} ms client ${failure.client} #${failure.seq}: ${failure.problem ?? ''}`);
}

/** Runs of equal values collapsed: 1 1 2 2 1 -> 1 2 1. */
function collapse(values: readonly string[]): string[] {
  return values.filter((value, index) => index === 0 || value !== values[index - 1]);
}

async function digitsIndex(): Promise<IndexEntry[]> {
  const answer = await real.triton.request('POST', '/v2/repository/index', {});
  if (answer.status !== 200) throw new Error(`Triton POST /v2/repository/index: HTTP ${answer.status} ${answer.body}`);
  return sortIndex((JSON.parse(answer.body) as IndexEntry[]).filter((entry) => entry.name === 'digits'));
}

async function gatewayDigitsIndex(): Promise<IndexEntry[]> {
  const response = await fetch(`${requireGateway().url}/v2/repository/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (response.status !== 200) throw new Error(`gateway POST /v2/repository/index: HTTP ${response.status} ${await response.text()}`);
  return sortIndex(((await response.json()) as IndexEntry[]).filter((entry) => entry.name === 'digits'));
}

function sortIndex(entries: IndexEntry[]): IndexEntry[] {
  return entries.sort((a, b) => (a.version ?? '').localeCompare(b.version ?? ''));
}

/** The READY versions once nothing is loading or unloading; ['busy'] while something is. */
async function settledVersions(): Promise<string[]> {
  const entries = await digitsIndex();
  if (entries.some((entry) => entry.state === 'LOADING' || entry.state === 'UNLOADING')) return ['busy'];
  return entries.filter((entry) => entry.state === 'READY').map((entry) => entry.version ?? '');
}

function requireGateway(): TestGateway {
  if (gateway === undefined) throw new Error('gateway not started');
  return gateway;
}
