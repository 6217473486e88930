// What only a Triton backend can show: the gateway's model metadata, config and repository index against
// Triton's own HTTP answers for the same models, also for a version that failed to load. The correctness
// checks (every output of 300 digits and 100 texts equal to onnxruntime's, JSON and binary, batch sizes
// 1..64, latest and pinned versions), the errors, readiness and version changes (under live traffic,
// broken versions included) run against both backends in test/contract/.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { clientDetails } from '../../gateway/backends/client-details.ts';
import { useTritonContractBackend } from '../contract/contract-backend.ts';
import { sortIndex } from '../contract/contract-samples.ts';
import type { IndexEntry } from '../contract/contract-samples.ts';
import { eventually } from '../support/gateway-harness.ts';

/** A version above model_repository's (so the latest-1 policy tries it) whose model.py fails to initialize. */
const FAILING_VERSION = 3;
const FAILED_LOAD_MS = 20_000;
const INDEX_SETTLED_MS = 10_000;
const FAILED_LOAD_TEST_MS = 60_000;

const backend = useTritonContractBackend();

describe('what the gateway says about the models, next to what Triton itself says', () => {
  it('mirrors the metadata of the real Triton', async () => {
    for (const path of ['/v2/models/digits', '/v2/models/digits/versions/2', '/v2/models/text_topic']) {
      expect(await gatewayJson('GET', path), path).toEqual(await tritonJson('GET', path));
    }
  });

  // Every field the gateway sends must be Triton's own (it once added "reshape": null and proto-loader's
  // "policy_choice" oneof marker); fields of Triton's that the project's proto leaves out may be missing.
  it('says nothing in the config JSON that Triton itself would not say', async () => {
    for (const model of ['digits', 'text_topic']) {
      const ours = await gatewayJson('GET', `/v2/models/${model}/config`);
      expect(await tritonJson('GET', `/v2/models/${model}/config`), model).toMatchObject(ours as object);
    }
  });

  it('passes on Triton\'s repository index as Triton writes it', async () => {
    for (const body of [{}, { ready: true }]) await expectIndexLikeTritons(body);
  });

  it('shows a version that failed to load as Triton does, with the reason as a client may see it', { timeout: FAILED_LOAD_TEST_MS }, async () => {
    await backend.twin.addVersion('digits', FAILING_VERSION, { fromVersion: 2, behaviour: { failLoad: true } });
    try {
      let failed: IndexEntry | undefined;
      await eventually(async () => {
        failed = (await tritonIndex({})).find((entry) => entry.name === 'digits' && entry.version === String(FAILING_VERSION) && entry.state === 'UNAVAILABLE' && entry.reason !== 'unloaded');
        return failed !== undefined;
      }, FAILED_LOAD_MS, 50);
      expect(failed?.reason ?? '').toMatch(/told to fail loading/);
      await expectIndexLikeTritons({});
    } finally {
      await backend.twin.removeVersion('digits', FAILING_VERSION);
      // Two polls of the repository, then nothing loading: the other tests compare a settled index.
      await sleep(2 * backend.repositoryPollMs + 200);
      await eventually(async () => (await tritonIndex({})).every((entry) => entry.state !== 'LOADING' && entry.state !== 'UNLOADING'), INDEX_SETTLED_MS, 100);
    }
  });
});

/**
 * The gateway's POST /v2/repository/index is Triton's (Triton asked before and after, so a state that
 * moves in between is asked again), with reasons as a client may see them: no server paths or tracebacks.
 */
async function expectIndexLikeTritons(body: object): Promise<void> {
  const asClientSees = (entries: readonly IndexEntry[]): IndexEntry[] => entries.map((entry) => (entry.reason === undefined ? entry : { ...entry, reason: clientDetails(entry.reason) }));
  let last = '';
  try {
    await eventually(async () => {
      const [before, ours, after] = [await tritonIndex(body), sortIndex((await gatewayJson('POST', '/v2/repository/index', body)) as IndexEntry[]), await tritonIndex(body)];
      last = `Triton ${JSON.stringify(before)}, gateway ${JSON.stringify(ours)}`;
      return JSON.stringify(before) === JSON.stringify(after) && JSON.stringify(ours) === JSON.stringify(asClientSees(before));
    }, INDEX_SETTLED_MS, 100);
  } catch {
    expect.fail(`POST /v2/repository/index ${JSON.stringify(body)}: the gateway's never matched Triton's: ${last}`);
  }
}

async function tritonIndex(body: object): Promise<IndexEntry[]> {
  return sortIndex((await tritonJson('POST', '/v2/repository/index', body)) as IndexEntry[]);
}

async function gatewayJson(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${backend.gatewayUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (response.status !== 200) throw new Error(`gateway ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Triton's own HTTP answer, the yardstick for what the gateway says. */
async function tritonJson(method: string, path: string, body?: unknown): Promise<unknown> {
  const answer = await backend.triton.request(method, path, body);
  if (answer.status !== 200) throw new Error(`Triton ${method} ${path}: HTTP ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body);
}
