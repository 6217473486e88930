// Bodies cheap to send and expensive to parse must not take the pod out: the gateway runs as the image
// runs it (its heap cap), is flooded with the largest bodies its limits allow, of every kind, and its
// liveness answer stays fast, the process lives, and every request gets exactly one proper answer.
// The machine is shared (2 cores, other test files at once): an idle server in a process of its own is
// probed alongside, and the gateway's answer may be late by what the machine alone imposes on that one.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digitsJsonBody, imageProcessEnv } from '../../bench/settings.ts';
import { configSchema } from '../../gateway/config.ts';
import { flood, isAcceptable, maximalBodies, tally } from '../support/body-flood.ts';
import type { FloodOutcome } from '../support/body-flood.ts';
import { eventually } from '../support/gateway-harness.ts';
import { startGatewayProcess } from '../support/gateway-process.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';

/** Kubernetes' default liveness probe timeout. */
const LIVENESS_TIMEOUT_MS = 1000;
const FLOOD_MS = 5000;
const PER_KIND = 2;
const PROBE_EVERY_MS = 100;
const PROBE_GIVES_UP_MS = 10_000;

/** An HTTP server that answers every request at once, in a process of its own: the machine's own latency. */
async function startIdleServer(): Promise<{ child: ChildProcess; url: string }> {
  const script = "const s=require('node:http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout ?? child, 'data')) as [Buffer];
  return { child, url: `http://127.0.0.1:${chunk.toString().trim()}` };
}

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
let idle: { child: ChildProcess; url: string } | undefined;

const real = useRealTriton({ twin: { models: { digits: [1], text_topic: [1] } }, server: { modelControl: 'none' } });

beforeAll(async () => {
  idle = await startIdleServer();
});

afterEach(() => {
  if (gateway?.child.exitCode === null) gateway.child.kill('SIGKILL');
  gateway = undefined;
});

afterAll(() => {
  idle?.child.kill('SIGKILL');
});

/** Floods `gateway` and checks its liveness, its life, and every answer. */
async function floodAndJudge(started: GatewayProcess): Promise<void> {
  if (idle === undefined) throw new Error('no idle server');
  const { url, exited, output } = started;
  const idleUrl = idle.url;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
  const limit = configSchema.shape.BODY_LIMIT_BYTES.parse(undefined);
  const bodies = maximalBodies(limit);
  const latencies: number[] = [];
  const idleLatencies: number[] = [];
  let exitedDuringFlood: number | string | undefined;
  void exited.then((code) => (exitedDuringFlood = code));

  const until = Date.now() + FLOOD_MS;
  const probing = (async () => {
    while (Date.now() < until) {
      const [gatewayMs, idleMs] = await Promise.all([probe(url), probe(idleUrl)]);
      latencies.push(gatewayMs);
      idleLatencies.push(idleMs);
      await sleep(PROBE_EVERY_MS);
    }
  })();
  const results = await Promise.all(bodies.map((body) => flood(url, body, PER_KIND, until, 20_000)));
  await probing;
  const byKind = bodies.map((body, index) => `${body.kind}: ${tally(results[index] ?? [])}`).join('\n');
  const outcomes: FloodOutcome[] = results.flat();

  // Printed on success too: the figures of the README's Reliability section.
  console.log(`flood of maximal bodies: /health max ${Math.round(Math.max(...latencies))} ms over ${latencies.length} probes (idle server max ${Math.round(Math.max(...idleLatencies))} ms)\n${byKind}`);
  const story = `answers:\n${byKind}\n/health ms: ${latencies.map(Math.round).join(' ')}\nidle server ms: ${idleLatencies.map(Math.round).join(' ')}\nlog tail:\n${output().slice(-2000)}`;
  expect(exitedDuringFlood, story).toBeUndefined();
  expect(Math.max(...latencies), story).toBeLessThan(LIVENESS_TIMEOUT_MS + Math.max(...idleLatencies));
  expect(outcomes.filter((outcome) => !isAcceptable(outcome)), story).toEqual([]);
  // Each kind was really sent, more than once per connection slot.
  for (const result of results) expect(result.length, story).toBeGreaterThanOrEqual(PER_KIND);
  // And the gateway still serves after the flood.
  expect((await fetch(`${url}/v2/models/digits/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: digitsJsonBody })).status, story).toBe(200);
}

describe('a flood of maximal bodies, with the image heap cap', () => {
  it('embedded backend: /health stays under 1 s, the process lives, every request is answered once', { timeout: 60_000 }, async () => {
    gateway = await startGatewayProcess(undefined, { ...imageProcessEnv(), REQUEST_TIMEOUT_MS: '30000' });
    await floodAndJudge(gateway);
  });

  it('in front of the real Triton: the same', { timeout: 60_000 }, async () => {
    gateway = await startGatewayProcess(real.triton.grpcAddress, { ...imageProcessEnv(), REQUEST_TIMEOUT_MS: '30000' });
    await floodAndJudge(gateway);
  });
});
