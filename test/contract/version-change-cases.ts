// The contract's version changes in the model repository, under a steady stream of unpinned requests
// whose every answer is checked against onnxruntime's for the version that says it served it: a version
// added (answers move to it) and removed (back), and a version that cannot load (nothing changes); no
// request fails and /ready stays 200 throughout. A scenario that several tests judge runs once, in the
// beforeAll of its describe, and the tests read what it recorded; every test and hook leaves the
// repository as it found it (version 2 alone), so each can run alone or in any order.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/gateway-harness.ts';
import { fp32Mismatches } from '../support/fp32-mismatches.ts';
import { notReady, readinessStory, sampleReadiness } from '../support/readiness-sampler.ts';
import type { ReadinessSample } from '../support/readiness-sampler.ts';
import { RequestStream, versionTimeline } from '../support/request-stream.ts';
import type { RequestOutcome, RequestVerdict } from '../support/request-stream.ts';
import type { ContractBackend } from './contract-backend.ts';
import { codeOf, digits, digitsBodyOf, expectDigitsLikeReference, firstImage, FORMATS, infer, reference, sortIndex } from './contract-samples.ts';
import type { IndexEntry, ReferenceAnswers } from './contract-samples.ts';

/** Clients of the steady stream, their pause, and the images they cycle through. */
const STREAM_CLIENTS = 4;
const STREAM_PAUSE_MS = 5;
const STREAM_IMAGES = 8;
/** Consecutive answers from one version that say a swap is over. */
const SETTLED_ANSWERS = 40;
const SWAP_TIMEOUT_MS = 20_000;
const SWAP_TEST_TIMEOUT_MS = 60_000;
/** Two versions' probabilities of one image differ by at least this much (else the stream's check is blind). */
const VERSIONS_APART = 1e-3;

/** What a stream scenario left: every request's outcome, /ready sampled all along, and what it returned. */
interface StreamRun<T> {
  readonly outcomes: readonly RequestOutcome[];
  readonly failures: readonly RequestOutcome[];
  readonly readiness: readonly ReadinessSample[];
  /** The scenario's marks and the timeline of versions, for failure messages. */
  readonly story: string;
  readonly result: T;
}

/** What the gateway said about the broken version while it was there. */
interface BrokenVersionAnswers {
  readonly metadataVersions: string;
  readonly versionReady: unknown;
  readonly pinned: { readonly status: number; readonly code: string };
  readonly modelReady: number;
}

export function versionChangeCases(backend: ContractBackend, references: ReferenceAnswers): void {
  const url = (path: string): string => `${backend.gatewayUrl}${path}`;

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
    if (body.model_name !== 'digits' || !['1', '2', '3'].includes(version)) return verdict(`answer names model ${String(body.model_name)} version "${version}"`);
    const expected = references.digits(version);
    const probabilities = body.outputs?.find((o) => o.name === 'probabilities')?.data ?? [];
    const label = body.outputs?.find((o) => o.name === 'label')?.data ?? [];
    const off = fp32Mismatches(probabilities, reference(expected, 'probabilities', image * 10, 10));
    if (off.length > 0) return verdict(`image ${image}: probabilities are not version ${version}'s: ${off.join(', ')}`);
    const expectedLabel = reference(expected, 'label', image, 1);
    if (JSON.stringify(label) !== JSON.stringify(expectedLabel)) return verdict(`image ${image}: label ${JSON.stringify(label)}, version ${version} says ${JSON.stringify(expectedLabel)}`);
    return verdict();
  }

  /**
   * Runs `scenario` once before the tests of the describe, under the stream and with /ready sampled;
   * the tests read what it recorded. `mark` notes a step on the stream's clock.
   */
  function useStreamRun<T>(scenario: (stream: RequestStream, mark: (step: string) => void) => Promise<T>): () => StreamRun<T> {
    let run: StreamRun<T> | undefined;
    beforeAll(async () => {
      const stream = startStream();
      const readiness = sampleReadiness(url('/ready'));
      const marks: string[] = [];
      let result: T;
      try {
        result = await scenario(stream, (step) => marks.push(`${stream.now()} ms: ${step}`));
      } finally {
        await Promise.all([stream.stop(), readiness.stop()]);
      }
      run = { outcomes: stream.outcomes, failures: stream.failures(), readiness: readiness.samples, story: `${marks.join('\n')}\n${versionTimeline(stream.outcomes)}`, result };
    }, SWAP_TEST_TIMEOUT_MS);
    return () => {
      if (run === undefined) throw new Error('the scenario of this describe did not run');
      return run;
    };
  }

  async function digitsIndex(): Promise<IndexEntry[]> {
    const response = await fetch(url('/v2/repository/index'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (response.status !== 200) throw new Error(`POST /v2/repository/index: HTTP ${response.status} ${await response.text()}`);
    return sortIndex(((await response.json()) as IndexEntry[]).filter((entry) => entry.name === 'digits'));
  }

  /** The READY versions once nothing is loading or unloading; 'busy' while something is. */
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

  /** Waits until the index shows `version` failed to load (not merely unloaded), and returns its entry. */
  async function failedVersion(version: string): Promise<IndexEntry> {
    let failed: IndexEntry | undefined;
    await eventually(async () => {
      failed = (await digitsIndex()).find((entry) => entry.version === version && entry.state === 'UNAVAILABLE' && entry.reason !== undefined && entry.reason !== '' && entry.reason !== 'unloaded');
      return failed !== undefined;
    }, SWAP_TIMEOUT_MS, 50);
    if (failed === undefined) throw new Error(`version ${version} never showed as failed`);
    return failed;
  }

  /**
   * Waits until version 2 serves and nothing else does. (Not "no version busy": Triton in poll mode keeps
   * retrying a model with a failed version, and on a loaded machine it can stay LOADING for long.)
   */
  async function onlyVersionTwoReady(): Promise<void> {
    await eventually(async () => {
      const ready = (await digitsIndex()).filter((entry) => entry.state === 'READY').map((entry) => entry.version ?? '');
      return ready.join() === '2';
    }, SWAP_TIMEOUT_MS, 50);
  }

  describe(`[${backend.name}] version changes in the model repository`, () => {
    it('versions 2 and 3 (a copy of 1) answer the images of the stream differently, so every answer can be told apart', () => {
      for (let image = 0; image < STREAM_IMAGES; image++) {
        const two = reference(references.digits('2'), 'probabilities', image * 10, 10).map(Number);
        const three = reference(references.digits('3'), 'probabilities', image * 10, 10).map(Number);
        const apart = Math.max(...two.map((value, index) => Math.abs(value - (three[index] ?? 0))));
        expect(apart, `image ${image}`).toBeGreaterThan(VERSIONS_APART);
      }
    });

    describe('version 3 (a copy of 1) added, then removed, under the stream', () => {
      const swap = useStreamRun(async (stream, mark) => {
        await settledOn(stream, '2');
        mark('version 3 added');
        await backend.addVersion('digits', 3, 1);
        try {
          await settledOn(stream, '3');
          mark('only version 3 serves');
        } finally {
          await backend.removeVersion('digits', 3);
          mark('version 3 removed');
        }
        await settledOn(stream, '2');
        mark('only version 2 serves again');
      });

      it('moves unpinned answers to version 3 with v1\'s outputs, then back to 2; no request fails', () => {
        const { outcomes, failures, story } = swap();
        expect(describeFailures(failures), story).toEqual([]);
        expect(outcomes.filter((outcome) => outcome.version === '3').length, story).toBeGreaterThanOrEqual(SETTLED_ANSWERS);
        for (let client = 0; client < STREAM_CLIENTS; client++) {
          const sequence = collapse(outcomes.filter((outcome) => outcome.client === client).map((outcome) => outcome.version ?? '?'));
          expect(sequence, `client ${client}: ${story}`).toEqual(['2', '3', '2']);
        }
      });

      // Every request was served, so the gateway must not tell the load balancer it cannot serve.
      it('/ready stays 200 while the versions are swapped', () => {
        const { readiness } = swap();
        expect(readiness.length, 'readiness samples taken during the swaps').toBeGreaterThan(10);
        expect(notReady(readiness), readinessStory(readiness)).toEqual([]);
      });
    });

    it('while version 3 is there, it answers every image as version 1 does, pinned and unpinned', { timeout: SWAP_TEST_TIMEOUT_MS }, async () => {
      await backend.addVersion('digits', 3, 1);
      try {
        await eventually(async () => (await settledVersions()) === '3' && (await metadataVersions()) === '3', SWAP_TIMEOUT_MS, 50);
        await expectDigitsLikeReference(backend, references, { version: '3', answeredBy: '3', referenceVersion: '1', format: FORMATS[1] });
        await expectDigitsLikeReference(backend, references, { version: '', answeredBy: '3', referenceVersion: '1', format: FORMATS[0] });
        const pinnedOld = await fetch(url('/v2/models/digits/versions/2/infer'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(digitsBodyOf(firstImage)) });
        const text = await pinnedOld.text();
        // Version 2 was unloaded by the policy (latest 1): the backend knows it, it is not ready.
        expect({ status: pinnedOld.status, code: codeOf(text) }, text).toEqual({ status: 503, code: 'MODEL_NOT_READY' });
      } finally {
        await backend.removeVersion('digits', 3);
        await eventually(async () => (await settledVersions()) === '2' && (await metadataVersions()) === '2', SWAP_TIMEOUT_MS, 50);
      }
    });

    describe('a version whose model.onnx is broken (version 4)', () => {
      /** Whether version 4 is in the repository: the afterAll takes it out if the last test did not. */
      let present = false;
      const broken = useStreamRun(async (stream, mark): Promise<BrokenVersionAnswers> => {
        await settledOn(stream, '2');
        await backend.addBrokenVersion('digits', 4);
        present = true;
        mark('version 4 added');
        mark(`index entry of version 4: ${JSON.stringify(await failedVersion('4'))}`);
        // Traffic through a few more polls of the repository, which see the same broken version.
        const failedAtMs = stream.now();
        await eventually(() => stream.startedSince(failedAtMs + 2 * backend.repositoryPollMs + 200).length >= SETTLED_ANSWERS, 10_000, 50);
        const ready = await fetch(url('/v2/models/digits/versions/4/ready'));
        const pinned = await fetch(url('/v2/models/digits/versions/4/infer'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(digitsBodyOf(firstImage)) });
        const modelReady = await fetch(url('/v2/models/digits/ready'));
        await modelReady.arrayBuffer();
        return {
          metadataVersions: await metadataVersions(),
          versionReady: { status: ready.status, body: await ready.json() },
          pinned: { status: pinned.status, code: codeOf(await pinned.text()) },
          modelReady: modelReady.status,
        };
      });
      afterAll(async () => {
        if (!present) return;
        await backend.removeVersion('digits', 4);
        await onlyVersionTwoReady();
      }, SWAP_TEST_TIMEOUT_MS);

      it('changes nothing: version 2 keeps serving, no request fails', () => {
        const { outcomes, failures, story } = broken();
        expect(describeFailures(failures), story).toEqual([]);
        expect(new Set(outcomes.map((outcome) => outcome.version)), story).toEqual(new Set(['2']));
        expect(broken().result.metadataVersions).toBe('2');
      });

      it('/ready stays 200 while the broken version is there', () => {
        const { readiness } = broken();
        expect(readiness.length, 'readiness samples taken').toBeGreaterThan(10);
        expect(notReady(readiness), readinessStory(readiness)).toEqual([]);
      });

      it('is known and not ready: 503 for its readiness and for requests pinned to it; the model is ready', () => {
        const { versionReady, pinned, modelReady } = broken().result;
        expect(versionReady).toEqual({ status: 503, body: { name: 'digits', version: '4', ready: false } });
        expect(pinned).toEqual({ status: 503, code: 'MODEL_NOT_READY' });
        expect(modelReady).toBe(200);
      });

      it('removing it leaves version 2 serving and the gateway ready', async () => {
        await backend.removeVersion('digits', 4);
        present = false;
        await sleep(2 * backend.repositoryPollMs + 200);
        await onlyVersionTwoReady();
        expect((await infer(backend, 'digits', '', { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: firstImage, binary: false }] })).header['model_version']).toBe('2');
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
  });
}

function describeFailures(failures: readonly RequestOutcome[]): string[] {
  return failures.map((failure) => `${failure.startedMs}..${failure.endedMs} ms client ${failure.client} #${failure.seq}: ${failure.problem ?? ''}`);
}

/** Runs of equal values collapsed: 2 2 3 3 2 -> 2 3 2. */
function collapse(values: readonly string[]): string[] {
  return values.filter((value, index) => index === 0 || value !== values[index - 1]);
}
