// The parse threads: a parse already running is never cut short by its request's signal (piscina would
// end the thread with it, and the only parse thread would restart for every client that leaves); only a
// parse still waiting for a thread is cancelled.
import { afterAll, describe, expect, it } from 'vitest';
import { BodyParsePool } from '../../../gateway/http/body-parse-pool.ts';
import { isGatewayError } from '../../../gateway/errors.ts';

const pool = new BodyParsePool({ threads: 1, heapMb: 256 });
const limits = { maxTensorElements: 10_000_000, maxJsonDepth: 64, modelInputs: 1 };

afterAll(async () => {
  await pool.close();
});

/** A JSON infer body of `count` numbers (about 2 bytes each). */
function body(count: number): Buffer {
  return Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [count], data: Array(count).fill(1) }] }));
}

const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'parsed',
    (error: unknown) => (isGatewayError(error) ? error.code : String(error)),
  );

describe('BodyParsePool', () => {
  it('finishes a running parse whose signal aborts, and cancels one still waiting for the thread', async () => {
    // Warm the thread, so the next parse starts at once.
    expect(await outcome(pool.parse(body(10), undefined, limits, new AbortController().signal))).toBe('parsed');
    const running = new AbortController();
    const waiting = new AbortController();
    const first = outcome(pool.parse(body(3_000_000), undefined, limits, running.signal));
    const second = outcome(pool.parse(body(3_000_000), undefined, limits, waiting.signal));
    await new Promise((resolve) => setTimeout(resolve, 30));
    running.abort();
    waiting.abort();
    expect(await first).toBe('parsed');
    expect(await second).toBe('REQUEST_CANCELLED');
  }, 30_000);

  it('refuses a parse that arrives after close() with SHUTTING_DOWN instead of starting a new pool', async () => {
    const closing = new BodyParsePool({ threads: 1, heapMb: 256 });
    try {
      expect(await outcome(closing.parse(body(10), undefined, limits, new AbortController().signal))).toBe('parsed');
      await closing.close();
      expect(await outcome(closing.parse(body(10), undefined, limits, new AbortController().signal))).toBe('SHUTTING_DOWN');
    } finally {
      await closing.close();
    }
  }, 30_000);
});
