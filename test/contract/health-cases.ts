// The contract's health cases: liveness, readiness, model readiness and the repository index, the same
// from both backends.
import { describe, expect, it } from 'vitest';
import type { ContractBackend } from './contract-backend.ts';
import { sortIndex } from './contract-samples.ts';
import type { IndexEntry } from './contract-samples.ts';

/**
 * The versions model_repository/ holds. Versions that the version-change cases add stay in the index
 * after their removal (UNAVAILABLE, "unloaded", as in Triton's own), so the index is read for these.
 */
const REPOSITORY_VERSIONS = new Set(['digits/1', 'digits/2', 'text_topic/1']);

export function healthCases(backend: ContractBackend): void {
  const url = (path: string): string => `${backend.gatewayUrl}${path}`;

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
      const entries = ((await response.json()) as IndexEntry[]).filter((entry) => REPOSITORY_VERSIONS.has(`${entry.name}/${entry.version ?? ''}`));
      expect({ status: response.status, body: sortIndex(entries) }).toEqual({
        status: 200,
        body: [
          { name: 'digits', version: '2', state: 'READY' },
          { name: 'text_topic', version: '1', state: 'READY' },
        ],
      });
    });
  });
}
