// Faults with the real Triton, counted: 64 keep-alive clients send digits requests without pause to the
// gateway (a child process, so SIGTERM is real) while Triton is SIGKILLed and restarted on the same ports
// three times, and then the gateway is SIGTERMed. Every request must get exactly one HTTP answer (no
// socket error, none unanswered), none later than its deadline (REQUEST_TIMEOUT_MS) plus a margin, and
// the gateway must serve again after each restart by itself. The counts are printed as a table.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { digitsJsonBody } from '../../bench/settings.ts';
import { countTable, startCountedLoad } from '../support/counted-load.ts';
import type { CountedOutcome } from '../support/counted-load.ts';
import { eventually } from '../support/gateway-harness.ts';
import { startGatewayProcess } from '../support/gateway-process.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';

const CLIENTS = 64;
const CYCLES = 3;
const REQUEST_TIMEOUT_MS = 2000;
const GRACE_MS = 3000;
const LAME_DUCK_MS = 1000;
/** A busy 2-core machine (the load, the gateway and Triton share it) delays an answer this much past its deadline at most. */
const LATENCY_MARGIN_MS = 1500;
/** Triton stays dead this long before its restart: long enough for the breaker to open. */
const DOWN_MS = 1000;
const TRITON_READY_MS = 30_000;
/** 200s after a restart that show the gateway serves again (every client served about once). */
const SERVED_AGAIN = CLIENTS;
const SERVED_AGAIN_WITHIN_MS = 20_000;
/** Steady serving between the faults, as between crashes in production. */
const STEADY_MS = 1000;

const real = useRealTriton({ twin: { models: { digits: [2] } }, server: { modelControl: 'none' } });
let gateway: GatewayProcess | undefined;

afterEach(() => {
  if (gateway !== undefined && gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
  gateway = undefined;
});

const okSince = (outcomes: readonly CountedOutcome[], from: number): number => outcomes.slice(from).filter((outcome) => outcome.kind === '200').length;

it('64 keep-alive clients through three Triton SIGKILLs and a gateway SIGTERM: one answer per request, none past its deadline', async () => {
  gateway = await startGatewayProcess(real.triton.grpcAddress, {
    SERVED_MODELS: 'digits',
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    SHUTDOWN_LAME_DUCK_MS: String(LAME_DUCK_MS),
  });
  const { url, child } = gateway;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
  const load = startCountedLoad({ url, path: '/v2/models/digits/infer', body: digitsJsonBody, clients: CLIENTS, guardMs: REQUEST_TIMEOUT_MS + GRACE_MS + 10_000 });
  const { outcomes } = load;
  let stopped: readonly CountedOutcome[] | undefined;
  try {
    await eventually(() => okSince(outcomes, 0) >= SERVED_AGAIN, SERVED_AGAIN_WITHIN_MS, 10);
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const killedAt = outcomes.length;
      await real.triton.kill();
      // The clients see the fault (503 or 504) before Triton comes back.
      await eventually(() => outcomes.slice(killedAt).some((outcome) => outcome.kind !== '200'), 10_000, 10);
      await sleep(DOWN_MS);
      await real.triton.restart();
      await real.triton.waitReady(TRITON_READY_MS);
      const restartedAt = outcomes.length;
      await eventually(() => okSince(outcomes, restartedAt) >= SERVED_AGAIN, SERVED_AGAIN_WITHIN_MS, 10).catch(() => {
        throw new Error(`cycle ${cycle}: the gateway did not serve again within ${SERVED_AGAIN_WITHIN_MS} ms of Triton's restart:\n${gateway?.output().slice(-3000)}`);
      });
      await sleep(STEADY_MS);
    }
    const signalledAt = outcomes.length;
    child.kill('SIGTERM');
    const exitCode = await gateway.exited;
    stopped = await load.stop();

    const faults = stopped.slice(0, signalledAt);
    const drain = stopped.slice(signalledAt);
    const slowest = Math.max(...stopped.map((outcome) => outcome.latencyMs));
    console.log(
      [
        `Triton SIGKILLed and restarted ${CYCLES} times, then the gateway SIGTERMed; ${CLIENTS} keep-alive clients, REQUEST_TIMEOUT_MS ${REQUEST_TIMEOUT_MS}:`,
        countTable({ [`Triton killed/restarted x${CYCLES}`]: faults, 'gateway SIGTERM': drain, total: stopped }),
        `slowest answer: ${Math.round(slowest)} ms; gateway exit: ${exitCode}`,
      ].join('\n'),
    );

    const lost = stopped.filter((outcome) => outcome.kind === 'socket error' || outcome.kind === 'no answer');
    expect(lost.map((outcome) => `${outcome.kind}: ${outcome.detail}`).slice(0, 20), `${lost.length} requests without an HTTP answer`).toEqual([]);
    expect(load.duplicates(), 'answers to a request already answered').toBe(0);
    const late = stopped.filter((outcome) => outcome.kind !== 'refused' && outcome.latencyMs > REQUEST_TIMEOUT_MS + LATENCY_MARGIN_MS);
    expect(late.map((outcome) => `${Math.round(outcome.latencyMs)} ms: ${outcome.detail}`).slice(0, 20), `${late.length} answers past the deadline`).toEqual([]);
    expect(exitCode).toBe(0);
  } finally {
    if (stopped === undefined) await load.stop();
  }
}, 120_000);
