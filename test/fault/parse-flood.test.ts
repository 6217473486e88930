// Bodies cheap to send and expensive to parse must not take the pod out: the gateway runs as the image
// runs it (its heap cap), is flooded with the largest bodies its limits allow, of every kind, and its
// liveness answer stays fast, the process lives, and every request gets exactly one proper answer.
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageProcessEnv } from '../../bench/settings.ts';
import { configSchema } from '../../gateway/config.ts';
import { flood, isAcceptable, maximalBodies, tally } from '../support/body-flood.ts';
import type { FloodOutcome } from '../support/body-flood.ts';
import { startGatewayProcess } from '../support/gateway-process.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';

/** Kubernetes' default liveness probe timeout. */
const LIVENESS_TIMEOUT_MS = 1000;
const FLOOD_MS = 5000;
const PER_KIND = 2;
const PROBE_EVERY_MS = 100;
const PROBE_GIVES_UP_MS = 10_000;

/** GET /health on a fresh connection, as a probe does; the time to its answer (PROBE_GIVES_UP_MS if none). */
function probe(url: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = get(`${url}/health`, { agent: false, timeout: PROBE_GIVES_UP_MS }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200 ? performance.now() - started : PROBE_GIVES_UP_MS));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(PROBE_GIVES_UP_MS));
  });
}

let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  gateway = await startGatewayProcess(undefined, { ...imageProcessEnv(), REQUEST_TIMEOUT_MS: '30000' });
});

afterAll(() => {
  if (gateway?.child.exitCode === null) gateway.child.kill('SIGKILL');
});

describe('a flood of maximal bodies, with the image heap cap', () => {
  it('keeps /health under 1 s, the process alive, and answers every request once', { timeout: 60_000 }, async () => {
    if (gateway === undefined) throw new Error('no gateway');
    const { url, exited, output } = gateway;
    const limit = configSchema.shape.BODY_LIMIT_BYTES.parse(undefined);
    const bodies = maximalBodies(limit);
    const latencies: number[] = [];
    let exitedDuringFlood: number | string | undefined;
    void exited.then((code) => (exitedDuringFlood = code));

    const until = Date.now() + FLOOD_MS;
    const probing = (async () => {
      while (Date.now() < until) {
        latencies.push(await probe(url));
        await sleep(PROBE_EVERY_MS);
      }
    })();
    const results = await Promise.all(bodies.map((body) => flood(url, body, PER_KIND, until, 20_000)));
    await probing;
    const byKind = bodies.map((body, index) => `${body.kind}: ${tally(results[index] ?? [])}`).join('\n');
    const outcomes: FloodOutcome[] = results.flat();

    const story = `answers:\n${byKind}\n/health ms: ${latencies.map(Math.round).join(' ')}\nlog tail:\n${output().slice(-2000)}`;
    expect(exitedDuringFlood, story).toBeUndefined();
    expect(Math.max(...latencies), story).toBeLessThan(LIVENESS_TIMEOUT_MS);
    expect(outcomes.filter((outcome) => !isAcceptable(outcome)), story).toEqual([]);
    // Each kind was really sent, more than once per connection slot.
    for (const result of results) expect(result.length, story).toBeGreaterThanOrEqual(PER_KIND);
  });
});
