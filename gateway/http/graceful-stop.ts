// Stops the HTTP side of the gateway without losing a request. In order:
// 1. draining starts (readiness false); new requests are answered 503 SHUTTING_DOWN with
//    Connection: close, and every answer written from now on closes its connection (connection-guard.ts),
//    so keep-alive clients reconnect elsewhere;
// 2. the listener stays open for the lame duck (load balancers need time to take the pod out) and
//    until the requests in flight are answered, both within the grace period; after the grace, the
//    requests still in flight are cut short and answered 503 (DrainGate.expire);
// 3. only then the listener closes and idle connections with it (refusals still dropping a body are
//    answered first, DrainGate.close/expire); connections still carrying a request
//    get FINAL_ANSWER_WAIT_MS (counted from the end of the grace when it ran out) to be answered
//    before the rest are closed.
// Idle keep-alive connections are not closed earlier on purpose: closing one races with a request its
// client may be sending at that moment (the client sees a reset); while the listener is open such a
// request gets its 503 instead.
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { FINAL_ANSWER_WAIT_MS } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { DrainGate } from './drain-gate.ts';

export interface GracefulStopOptions {
  readonly server: Server;
  readonly gate: DrainGate;
  readonly logger: Logger;
  readonly graceMs: number;
  /** Never beyond graceMs. */
  readonly lameDuckMs: number;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const controller = new AbortController();
  const timeout = delay(Math.max(0, ms), false, { signal: controller.signal }).catch(() => false);
  const settled = await Promise.race([promise.then(() => true), timeout]);
  controller.abort();
  return settled;
}

export class GracefulStop {
  readonly #options: GracefulStopOptions;

  constructor(options: GracefulStopOptions) {
    this.#options = options;
  }

  /** `finishWork` runs once requests are answered or cut short (e.g. closing the batcher). */
  async stop(reason: string, finishWork: () => Promise<void>): Promise<{ readonly drained: boolean }> {
    const { server, gate, logger, graceMs } = this.#options;
    const lameDuckMs = Math.min(this.#options.lameDuckMs, graceMs);
    const started = performance.now();
    logger.info({ reason, inFlight: gate.inFlight, graceMs, lameDuckMs }, 'shutting down: readiness false, draining');
    const drained = await within(gate.drain(), graceMs);
    let finalMs = FINAL_ANSWER_WAIT_MS;
    if (drained) {
      await delay(Math.max(0, started + lameDuckMs - performance.now()));
      // Refusals still dropping a body are answered now, within FINAL_ANSWER_WAIT_MS, not cut off.
      gate.close();
    } else {
      logger.warn({ inFlight: gate.inFlight }, 'grace period over; answering what is left with 503');
      gate.expire();
      const finalStarted = performance.now();
      await within(gate.drain(), finalMs);
      finalMs -= performance.now() - finalStarted;
    }
    await finishWork();

    // server.close() closes the idle connections itself; the busy ones close after their answer.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (!(await within(closed, finalMs))) {
      logger.warn({}, 'connections still open after the final answers; closing them');
      server.closeAllConnections();
      await closed;
    }
    return { drained };
  }
}
