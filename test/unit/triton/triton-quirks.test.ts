// Triton's quirks end in its backend: ready=false for a model it has never heard of becomes
// MODEL_NOT_FOUND, unloading a model it does not have is refused without asking Triton, and its strict
// readiness (false during every version swap) is overruled only when the index explains it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReadinessEvidence, RepositoryEntry } from '../../../gateway/backends/backend.ts';
import { TritonBackend } from '../../../gateway/backends/triton/triton-backend.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';
import { createMetrics } from '../../../gateway/observability/metrics.ts';
import { FakeTriton } from '../../support/fake-triton.ts';

let triton: FakeTriton;
let backend: TritonBackend;
const metrics = createMetrics({ collectProcessMetrics: false });

beforeAll(async () => {
  triton = new FakeTriton();
  await triton.start();
  backend = new TritonBackend({
    address: triton.address,
    keepaliveMs: 10_000,
    breaker: { errorThresholdPercentage: 50, volumeThreshold: 100, rollingWindowMs: 10_000, resetTimeoutMs: 1000 },
    logger: createLogger('silent'),
    metrics,
  });
});

afterAll(async () => {
  await backend.close();
  await triton.stop();
});

beforeEach(() => {
  triton.serverReady = true;
  triton.notReadyModels.clear();
});

const options = () => ({ deadline: Date.now() + 2000 });

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error as { code?: unknown }).code,
  );
}

describe('models Triton has never heard of', () => {
  it('ModelReady: true, false for a known model that is not ready, MODEL_NOT_FOUND for an unknown model or version', async () => {
    triton.notReadyModels.add('fake_text');
    expect(await backend.modelReady('fake_digits', '', options())).toBe(true);
    expect(await backend.modelReady('fake_text', '', options())).toBe(false);
    expect(await codeOf(backend.modelReady('nope', '', options()))).toBe('MODEL_NOT_FOUND');
    expect(await codeOf(backend.modelReady('fake_text', '9', options()))).toBe('MODEL_NOT_FOUND');
    // Triton reads a version as a number, so "01" is version 1: known, not ready (503), as on the embedded backend.
    expect(await backend.modelReady('fake_text', '01', options())).toBe(false);
  });

  it('unload of a model Triton does not have: MODEL_NOT_FOUND, and Triton is not asked to unload', async () => {
    const before = triton.count('RepositoryModelUnload');
    expect(await codeOf(backend.unloadModel('nope', options()))).toBe('MODEL_NOT_FOUND');
    expect(triton.count('RepositoryModelUnload')).toBe(before);
    await backend.unloadModel('fake_text', options());
    expect(triton.count('RepositoryModelUnload')).toBe(before + 1);
  });
});

describe("Triton's strict readiness", () => {
  const ready = (name: string, version = '1'): RepositoryEntry => ({ name, version, state: 'READY', reason: '' });
  const loading = (name: string, version = '2'): RepositoryEntry => ({ name, version, state: 'LOADING', reason: '' });
  const evidence = (index: RepositoryEntry[], extra: Partial<ReadinessEvidence> = {}): ReadinessEvidence => ({
    index,
    served: ['a', 'b'],
    servedReady: true,
    wasReady: false,
    ...extra,
  });

  it('is what Triton says when it says ready', async () => {
    expect(await backend.serverReadiness(evidence([]), options())).toEqual({ ready: true });
  });

  it('not ready is overruled when a swap explains it: churn only of models with a READY version, or of models not served', async () => {
    triton.serverReady = false;
    expect(await backend.serverReadiness(evidence([ready('a'), loading('a'), ready('b'), loading('other')]), options())).toEqual({ ready: true });
  });

  it('not ready stands when the churn is of a served model with no READY version, or a served model is not ready', async () => {
    triton.serverReady = false;
    const notReady = { ready: false, reason: 'triton reports not ready' };
    expect(await backend.serverReadiness(evidence([ready('a'), loading('b')]), options())).toEqual(notReady);
    expect(await backend.serverReadiness(evidence([ready('a'), loading('a'), ready('b')], { servedReady: false }), options())).toEqual(notReady);
    // An operator's unload is not churn: nothing explains the not ready.
    expect(await backend.serverReadiness(evidence([ready('a'), ready('b'), { name: 'a', version: '2', state: 'UNAVAILABLE', reason: 'unloaded' }]), options())).toEqual(notReady);
  });

  it('gives one poll of grace after a ready one, then reports not ready until Triton says ready again', async () => {
    triton.serverReady = false;
    const unexplained = evidence([ready('a'), ready('b')], { wasReady: true });
    expect(await backend.serverReadiness(unexplained, options())).toEqual({ ready: true });
    expect(await backend.serverReadiness(unexplained, options())).toEqual({ ready: false, reason: 'triton reports not ready' });
    triton.serverReady = true;
    expect(await backend.serverReadiness(unexplained, options())).toEqual({ ready: true });
    triton.serverReady = false;
    expect(await backend.serverReadiness(unexplained, options())).toEqual({ ready: true });
  });
});

describe('the backend call metric', () => {
  it('counts Triton calls by method and outcome: OK or the error code the call was mapped to', async () => {
    await backend.serverReadiness({ index: [], served: [], servedReady: false, wasReady: false }, options());
    await codeOf(backend.modelMetadata('nope', '', options()));
    const text = await metrics.registry.getSingleMetricAsString('gateway_backend_calls_total');
    expect(text).toMatch(/backend="triton",method="ServerReady",outcome="OK"\} [1-9]/);
    expect(text).toMatch(/backend="triton",method="ModelMetadata",outcome="MODEL_NOT_FOUND"\} 1/);
  });
});
