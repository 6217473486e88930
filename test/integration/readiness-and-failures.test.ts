// Readiness and failure handling against a REAL tritonserver (the pip-installed one, serving the python
// backend twin of model_repository/ in explicit model control mode), with the gateway in-process:
// 1. the gateway started before Triton: live at once, not ready naming Triton, ready once Triton is;
// 2. a served model unloaded through Triton's own API: not ready naming it, live, the other model
//    still served; loaded again: ready;
// 3. Triton SIGKILLed under 32 looping clients: no hang, one answer per request, 200 before and only
//    503/504 after, the breaker opens, not ready but live; Triton restarted: the gateway recovers alone;
// 4. Triton SIGSTOPped (hangs with its connections open): 504 at the deadline, then the breaker opens
//    and answers fast 503; SIGCONT: the gateway recovers alone.
// One Triton serves every test (each test starts its own gateway); a test that leaves it stopped,
// killed or paused gets it back in the next test's beforeEach.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LinkState } from '../../gateway/backends/backend.ts';
import { eventually, startTestGateway, TEST_ENV } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { HUNG, NO_ANSWER, inferDigits, metricValue, startDigitsLoad, tally } from '../support/infer-load.ts';
import type { Outcome } from '../support/infer-load.ts';
import { printTritonLogOnFailure } from '../support/real-triton/triton-log-on-failure.ts';
import { startTritonServer } from '../support/real-triton/triton-server.ts';
import type { TritonServerHandle } from '../support/real-triton/triton-server.ts';
import { createTwinRepository } from '../support/real-triton/twin-repository.ts';
import type { TwinRepository } from '../support/real-triton/twin-repository.ts';
import { readinessOf } from '../support/responses.ts';

const POLL_MS = 200;
/** BREAKER_RESET_TIMEOUT_MS of the test gateway (gateway-harness TEST_ENV). */
const RESET_MS = Number(TEST_ENV['BREAKER_RESET_TIMEOUT_MS']);
/**
 * The gRPC channel's longest reconnect backoff (triton-grpc-client.ts, 2 s, plus grpc-js' 20 % jitter):
 * a channel that failed to connect for a while tries again only after it, so it bounds how late a
 * Triton that came back is seen (README "Reconnection").
 */
const RECONNECT_BACKOFF_MS = 2400;
/** Scheduling slack on a loaded 2-core machine (Triton, its python stubs, 32 clients and the gateway). */
const SLACK_MS = 1000;
const TRITON_READY_MS = 30_000;

let twin: TwinRepository | undefined;
let triton: TritonServerHandle | undefined;
let gateway: TestGateway | undefined;

printTritonLogOnFailure(() => triton);

beforeAll(async () => {
  twin = await createTwinRepository({ models: { digits: [2], text_topic: [1] } });
  triton = await startTritonServer({ repository: twin.path, modelControl: 'explicit', loadModels: ['digits', 'text_topic'] });
  await triton.waitReady(TRITON_READY_MS);
}, 90_000);

afterAll(async () => {
  try {
    await gateway?.close();
  } finally {
    try {
      await triton?.stop();
    } finally {
      await twin?.remove();
    }
  }
});

beforeEach(async () => {
  // Back to a running, ready Triton with both models loaded, whatever the previous test left.
  const handle = need(triton);
  try {
    await handle.waitReady(3000);
  } catch {
    await handle.restart();
    await handle.waitReady(TRITON_READY_MS);
  }
  if ((await tritonState(handle, 'text_topic')) !== 'READY') {
    expect(await handle.request('POST', '/v2/repository/models/text_topic/load'), 'text_topic loaded again').toMatchObject({ status: 200 });
  }
}, 60_000);

afterEach(async () => {
  try {
    await triton?.resume(); // a test that failed while Triton was paused
  } catch {
    // not running: the next beforeEach restarts it
  }
  await gateway?.close();
  gateway = undefined;
});

describe('readiness against a real Triton', () => {
  it('started before Triton: live at once, 503 naming Triton, then ready within a poll (+ breaker reset) of Triton being ready', async () => {
    const handle = need(triton);
    await handle.stop(); // nothing listens on its ports now; restart() brings it back on the same ones
    gateway = await startTestGateway(handle.grpcAddress, { READINESS_POLL_INTERVAL_MS: String(POLL_MS) });
    const { url } = gateway;
    const backend = gateway.gateway.backend;

    for (const path of ['/health', '/v2/health/live']) {
      const response = await fetch(`${url}${path}`);
      expect({ path, status: response.status, body: await response.json() }).toEqual({ path, status: 200, body: { live: true } });
    }
    for (const path of ['/ready', '/v2/health/ready']) {
      const { status, body } = await readiness(url, path);
      expect({ path, status, ready: body.ready }).toEqual({ path, status: 503, ready: false });
      expect(body.reasons.join('; '), path).toMatch(/triton unreachable/);
      expect(body.checks, path).toMatchObject({ server: 'not ready' });
    }
    const early = await inferDigits(url, 5000);
    expect({ status: early.status, code: early.code }).toEqual({ status: 503, code: expect.stringMatching(/^(BACKEND_UNAVAILABLE|CIRCUIT_OPEN)$/) });
    expect(early.ended - early.started, 'a request while Triton is away is answered at once').toBeLessThan(SLACK_MS);

    // The poller's failing calls open the breaker (3 calls in the window, all failing). Waiting for it
    // makes the bound below the worst case: the breaker must go half-open (BREAKER_RESET_TIMEOUT_MS)
    // and the poller's probe must succeed before /ready can say 200.
    await eventually(() => backend.linkState() === 'open', 5000);
    expect((await readiness(url)).body.reasons).toContain('circuit breaker to triton is open');

    await handle.restart();
    await handle.waitReady(TRITON_READY_MS);
    const tritonReadyAt = performance.now();
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 10);
    const tookMs = performance.now() - tritonReadyAt;
    // One poll interval, plus the breaker's reset time (it opened), plus the gRPC reconnect backoff.
    expect(tookMs, `ready ${Math.round(tookMs)} ms after Triton`).toBeLessThan(POLL_MS + RESET_MS + RECONNECT_BACKOFF_MS + SLACK_MS);
    const { body } = await readiness(url);
    expect(body).toMatchObject({ ready: true, reasons: [], checks: { server: 'ready', breaker: 'closed', models: { digits: 'ready', text_topic: 'ready' } } });

    const answers = await Promise.all(Array.from({ length: 8 }, () => inferDigits(url, 5000)));
    expect(tally(answers)).toBe('200 OK x8');
  }, 40_000);

  it('a served model unloaded in Triton: 503 naming that model, live, the other model served; loaded again: ready', async () => {
    const handle = need(triton);
    gateway = await startTestGateway(handle.grpcAddress, { READINESS_POLL_INTERVAL_MS: String(POLL_MS), SERVED_MODELS: 'digits,text_topic' });
    const { url } = gateway;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 5000);
    expect(await inferText(url)).toMatchObject({ status: 200 });

    const unload = await handle.request('POST', '/v2/repository/models/text_topic/unload');
    expect(unload, 'Triton unloads text_topic').toMatchObject({ status: 200 });
    const unloadedAt = performance.now();
    await eventually(async () => (await fetch(`${url}/ready`)).status === 503, POLL_MS + 5 * SLACK_MS, 10);
    const notReadyAfterMs = performance.now() - unloadedAt;
    expect(notReadyAfterMs, `not ready ${Math.round(notReadyAfterMs)} ms after the unload`).toBeLessThan(POLL_MS + SLACK_MS);
    // While the model is UNLOADING (about a second: its python stub shuts down) Triton's own strict
    // readiness is false too, and the gateway says so; once it is unloaded, text_topic alone is the reason.
    expect((await readiness(url)).body.reasons).toContain('model "text_topic" has no ready version');
    await eventually(async () => (await tritonState(handle, 'text_topic')) === 'UNAVAILABLE', 15_000, 50);
    const unloadedInTritonAt = performance.now();
    await eventually(async () => (await readiness(url)).body.reasons.length === 1, POLL_MS + 5 * SLACK_MS, 10);
    expect(performance.now() - unloadedInTritonAt, 'Triton ready again, seen within a poll').toBeLessThan(POLL_MS + SLACK_MS);
    const { status, body } = await readiness(url);
    expect({ status, body }).toMatchObject({
      status: 503,
      body: {
        ready: false,
        reasons: ['model "text_topic" has no ready version'],
        checks: { server: 'ready', breaker: 'closed', models: { digits: 'ready', text_topic: 'not ready' } },
      },
    });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);

    // The other model is served; the missing one is an honest 503 that does not open the breaker.
    expect(tally(await Promise.all(Array.from({ length: 4 }, () => inferDigits(url, 5000))))).toBe('200 OK x4');
    // Triton knows the model (its index lists it UNAVAILABLE "unloaded", the gateway's /ready names it):
    // "no ready version right now" is a 503, not a 404 "unknown model". Soft, so the reload below still runs.
    const missing = await inferText(url);
    expect.soft(missing).toMatchObject({ status: 503, body: { code: 'MODEL_NOT_READY', error: expect.stringContaining('text_topic') } });
    expect(gateway.gateway.backend.linkState()).toBe('closed');
    expect(metricValue(await metricsText(url), 'gateway_breaker_transitions_total', { to: 'open' })).toBe(0);

    const load = await handle.request('POST', '/v2/repository/models/text_topic/load');
    expect(load, 'Triton loads text_topic again').toMatchObject({ status: 200 });
    const loadedAt = performance.now();
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, POLL_MS + 5 * SLACK_MS, 10);
    const readyAfterMs = performance.now() - loadedAt;
    expect(readyAfterMs, `ready ${Math.round(readyAfterMs)} ms after the load`).toBeLessThan(POLL_MS + SLACK_MS);
    expect((await readiness(url)).body).toMatchObject({ ready: true, reasons: [], checks: { models: { digits: 'ready', text_topic: 'ready' } } });
    expect(await inferText(url)).toMatchObject({ status: 200, body: { model_name: 'text_topic' } });
  }, 30_000);
});

describe('Triton failing under load', () => {
  const CLIENTS = 32;

  it('killed (SIGKILL) under 32 clients: no hang, one answer each, 200 then only 503/504, breaker opens; restarted: recovers by itself', async () => {
    const TIMEOUT_MS = 2000;
    const handle = need(triton);
    gateway = await startTestGateway(handle.grpcAddress, { READINESS_POLL_INTERVAL_MS: String(POLL_MS), REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
    const { url } = gateway;
    const backend = gateway.gateway.backend;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 5000);
    const inferBefore = metricValue(await metricsText(url), 'gateway_http_requests_total', { route: 'infer' });
    const states = watchLinkState(() => backend.linkState());

    const load = startDigitsLoad(url, { clients: CLIENTS, guardMs: TIMEOUT_MS + SLACK_MS + 2000, maxPerClient: 3000 });
    try {
      // Every client has been answered a few times before the kill.
      await eventually(() => load.outcomes.length >= 3 * CLIENTS, 10_000);
      const killStarted = performance.now();
      await handle.kill();
      const killed = performance.now();

      await eventually(() => backend.linkState() === 'open', 5000, 5);
      // The state gauge reads 2 while it is open (it flaps open/half-open while the poller probes a dead Triton).
      await eventually(async () => metricValue(await metricsText(url), 'gateway_breaker_state') === 2, 5000);
      // The clients go on against the open breaker for a while (a bounded number of answers).
      const openAt = performance.now();
      await eventually(() => load.outcomes.filter((outcome) => outcome.started > openAt).length >= 4 * CLIENTS, 5000);
      const outcomes = await load.stop();

      expectNoHangNoReset(outcomes, TIMEOUT_MS);
      const beforeKill = outcomes.filter((outcome) => outcome.ended < killStarted);
      const straddling = outcomes.filter((outcome) => outcome.started < killed && outcome.ended >= killStarted);
      const afterKill = outcomes.filter((outcome) => outcome.started >= killed);
      expect(beforeKill.length, 'answers before the kill').toBeGreaterThanOrEqual(CLIENTS);
      expect(tally(beforeKill), 'before the kill: only 200').toBe(`200 OK x${beforeKill.length}`);
      expect(straddling.filter((outcome) => ![200, 503, 504].includes(outcome.status)), `in flight at the kill: ${tally(straddling)}`).toEqual([]);
      expect(afterKill.length, 'answers after the kill').toBeGreaterThanOrEqual(4 * CLIENTS);
      expect(afterKill.filter((outcome) => ![503, 504].includes(outcome.status)), `after the kill: ${tally(afterKill)}`).toEqual([]);
      expect(afterKill.some((outcome) => outcome.code === 'CIRCUIT_OPEN'), `after the kill: ${tally(afterKill)}`).toBe(true);
      // Exactly one answer per request: as many as the clients sent and received, as many as the gateway counted.
      await eventually(async () => metricValue(await metricsText(url), 'gateway_http_requests_total', { route: 'infer' }) - inferBefore === outcomes.length, 2000);
      expect(states.seen, 'breaker states seen').toContain('open');

      const ready = await readiness(url);
      expect(ready.status).toBe(503);
      expect(ready.body.reasons.join('; ')).toMatch(/triton unreachable|circuit breaker to triton is open/);
      expect((await fetch(`${url}/health`)).status).toBe(200);

      // No traffic now: after the reset time the poller's call is the half-open probe; Triton is dead, so
      // the probe fails and the breaker opens again (never closes).
      // (The count may be read while a probe is already out: then the next "open" is that probe's, so a
      // new half-open and a new open are both awaited.)
      const transitionsAtStop = await breakerTransitions(url);
      await eventually(async () => {
        const now = await breakerTransitions(url);
        return now.open > transitionsAtStop.open && now['half-open'] > transitionsAtStop['half-open'];
      }, 2 * (RESET_MS + POLL_MS + 2 * SLACK_MS), 20);
      await eventually(() => backend.linkState() === 'open', 2000, 5);
      const transitionsAtRestart = await breakerTransitions(url);
      expect(transitionsAtRestart['half-open'], 'half-open probes while Triton was dead').toBeGreaterThan(transitionsAtStop['half-open']);
      expect(transitionsAtRestart.closed, 'never closed while Triton was dead').toBe(transitionsAtStop.closed);

      // Restart Triton on the same ports; the gateway is left alone and sent no traffic: its poller probes.
      const seenBeforeRestart = states.seen.length;
      await handle.restart();
      await handle.waitReady(TRITON_READY_MS);
      const tritonReadyAt = performance.now();
      await eventually(async () => backend.linkState() === 'closed' && (await fetch(`${url}/ready`)).status === 200, 15_000, 10);
      const tookMs = performance.now() - tritonReadyAt;
      expect(tookMs, `recovered ${Math.round(tookMs)} ms after Triton was ready`).toBeLessThan(POLL_MS + RESET_MS + RECONNECT_BACKOFF_MS + SLACK_MS);
      // It was open at the restart, so closing took a half-open probe that succeeded.
      const transitions = await breakerTransitions(url);
      expect(transitions['half-open'] - transitionsAtRestart['half-open'], 'half-open after the restart').toBeGreaterThanOrEqual(1);
      expect(transitions.closed - transitionsAtRestart.closed, 'closed again after the restart').toBeGreaterThanOrEqual(1);
      expect(states.seen.slice(seenBeforeRestart).at(-1)).toBe('closed');
      expect(states.seen.slice(states.seen.indexOf('open'), seenBeforeRestart), 'never closed while Triton was dead').not.toContain('closed');
      expect(metricValue(await metricsText(url), 'gateway_breaker_state')).toBe(0);
      expect((await readiness(url)).body).toMatchObject({ ready: true, reasons: [], checks: { breaker: 'closed', server: 'ready' } });

      await expectAllServed(url, CLIENTS, TIMEOUT_MS);
    } finally {
      states.stop();
      await load.stop();
    }
  }, 60_000);

  it('paused (SIGSTOP, connections open): 504 at the deadline, then fast 503 from the open breaker; resumed: recovers by itself', async () => {
    const TIMEOUT_MS = 1000;
    const handle = need(triton);
    gateway = await startTestGateway(handle.grpcAddress, {
      READINESS_POLL_INTERVAL_MS: String(POLL_MS),
      REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
      TRITON_CONTROL_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    const { url } = gateway;
    const backend = gateway.gateway.backend;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 5000);
    expect((await inferDigits(url, 5000)).code).toBe('OK');
    const states = watchLinkState(() => backend.linkState());

    await handle.pause();
    const load = startDigitsLoad(url, { clients: CLIENTS, guardMs: TIMEOUT_MS + SLACK_MS + 2000, maxPerClient: 500 });
    try {
      // Liveness never asks Triton: answered at once while Triton hangs.
      const healthStarted = performance.now();
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(performance.now() - healthStarted).toBeLessThan(SLACK_MS);

      await eventually(() => backend.linkState() === 'open', 10_000, 5);
      await eventually(async () => metricValue(await metricsText(url), 'gateway_breaker_state') === 2, 5000);
      const openAt = performance.now();
      await eventually(() => load.outcomes.filter((outcome) => outcome.started > openAt && outcome.code === 'CIRCUIT_OPEN').length >= 2 * CLIENTS, 5000);
      const ready = await readiness(url);
      const outcomes = await load.stop();

      expectNoHangNoReset(outcomes, TIMEOUT_MS);
      expect(outcomes.filter((outcome) => !(outcome.status === 504 && outcome.code === 'DEADLINE_EXCEEDED') && !(outcome.status === 503 && outcome.code === 'CIRCUIT_OPEN')), tally(outcomes)).toEqual([]);
      // Every client's first request was sent with the breaker closed: it waited out its deadline, no longer.
      for (let client = 0; client < CLIENTS; client++) {
        const first = outcomes.find((outcome) => outcome.client === client);
        expect({ client, status: first?.status, code: first?.code }).toEqual({ client, status: 504, code: 'DEADLINE_EXCEEDED' });
      }
      const timedOut = outcomes.filter((outcome) => outcome.status === 504);
      const tooEarly = timedOut.filter((outcome) => outcome.ended - outcome.started < TIMEOUT_MS - 20);
      expect(tooEarly.map((outcome) => Math.round(outcome.ended - outcome.started)), '504 before the deadline (ms)').toEqual([]);
      // Requests waiting (queued behind the hung batches) when the breaker opened are answered then, before
      // their deadline; requests sent once it is open are answered at once, far below the deadline.
      const openedAt = states.firstSeen('open');
      const rejected = outcomes.filter((outcome) => outcome.code === 'CIRCUIT_OPEN');
      const rejectedOnceOpen = rejected.filter((outcome) => outcome.started > openedAt);
      expect(rejectedOnceOpen.length, tally(outcomes)).toBeGreaterThanOrEqual(CLIENTS);
      const slow = rejectedOnceOpen.filter((outcome) => outcome.ended - outcome.started > TIMEOUT_MS / 2);
      expect(slow.map((outcome) => Math.round(outcome.ended - outcome.started)), 'slow CIRCUIT_OPEN answers once open (ms)').toEqual([]);
      const firstTimeout = Math.min(...timedOut.map((outcome) => outcome.ended));
      expect(rejected.every((outcome) => outcome.ended > firstTimeout), 'the breaker opened after deadlines were missed').toBe(true);
      expect(ready.status).toBe(503);
      expect(ready.body.reasons.join('; ')).toMatch(/triton unreachable|circuit breaker to triton is open/);
      expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
      expect(states.seen).toContain('open');

      const transitionsAtResume = await breakerTransitions(url);
      await handle.resume();
      const resumedAt = performance.now();
      await eventually(async () => backend.linkState() === 'closed' && (await fetch(`${url}/ready`)).status === 200, 15_000, 10);
      const tookMs = performance.now() - resumedAt;
      // The breaker's reset time, then the poller's next probe (whose call may take up to its deadline).
      expect(tookMs, `recovered ${Math.round(tookMs)} ms after the resume`).toBeLessThan(RESET_MS + POLL_MS + TIMEOUT_MS + SLACK_MS);
      const transitions = await breakerTransitions(url);
      expect(transitions.closed - transitionsAtResume.closed, 'closed again after the resume').toBeGreaterThanOrEqual(1);
      expect(states.seen.at(-1)).toBe('closed');
      await expectAllServed(url, CLIENTS, TIMEOUT_MS);
    } finally {
      states.stop();
      await load.stop();
    }
  }, 60_000);
});

/** No request hung past its timeout (plus slack), none lost its connection, each got its one answer. */
function expectNoHangNoReset(outcomes: readonly Outcome[], timeoutMs: number): void {
  const unanswered = outcomes.filter((outcome) => outcome.status === HUNG || outcome.status === NO_ANSWER);
  expect(unanswered.map((outcome) => `${outcome.code}: ${outcome.detail}`), 'requests without an HTTP answer').toEqual([]);
  const late = outcomes.filter((outcome) => outcome.ended - outcome.started > timeoutMs + SLACK_MS);
  expect(late.map((outcome) => `${outcome.status} ${outcome.code} after ${Math.round(outcome.ended - outcome.started)} ms`), `answers later than ${timeoutMs} + ${SLACK_MS} ms`).toEqual([]);
}

interface LinkStateWatch {
  /** Every state seen, in order, each with when it was first seen (performance.now()). */
  readonly seen: LinkState[];
  readonly at: number[];
  /** When `state` was first seen (Infinity if never). */
  firstSeen(state: LinkState): number;
  stop(): void;
}

/** Records every breaker state it sees (polled every 2 ms; a very short half-open can slip between two looks). */
function watchLinkState(read: () => LinkState): LinkStateWatch {
  const seen: LinkState[] = [read()];
  const at: number[] = [performance.now()];
  const timer = setInterval(() => {
    const state = read();
    if (state !== seen.at(-1)) {
      seen.push(state);
      at.push(performance.now());
    }
  }, 2);
  return {
    seen,
    at,
    firstSeen: (state) => at[seen.indexOf(state)] ?? Infinity,
    stop: () => clearInterval(timer),
  };
}

async function breakerTransitions(url: string): Promise<Record<LinkState, number>> {
  const text = await metricsText(url);
  return {
    open: metricValue(text, 'gateway_breaker_transitions_total', { to: 'open' }),
    'half-open': metricValue(text, 'gateway_breaker_transitions_total', { to: 'half-open' }),
    closed: metricValue(text, 'gateway_breaker_transitions_total', { to: 'closed' }),
  };
}

async function metricsText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

async function readiness(url: string, path = '/ready') {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: await readinessOf(response) };
}

async function inferText(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/v2/models/text_topic/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['He ran the mile in under four minutes.'] }] }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

/** The model's state in Triton's own repository index (READY, UNLOADING, UNAVAILABLE...). */
async function tritonState(handle: TritonServerHandle, model: string): Promise<string | undefined> {
  const answer = await handle.request('POST', '/v2/repository/index', {});
  if (answer.status !== 200) return undefined;
  const entries = JSON.parse(answer.body) as { name: string; state?: string }[];
  return entries.find((entry) => entry.name === model)?.state;
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('not started');
  return value;
}

/** After a recovery: every client's requests are served again. */
async function expectAllServed(url: string, clients: number, timeoutMs: number): Promise<void> {
  const after = await startDigitsLoad(url, { clients, guardMs: timeoutMs + SLACK_MS + 2000, maxPerClient: 3 }).done;
  expect(tally(after), 'after the recovery').toBe(`200 OK x${3 * clients}`);
}
