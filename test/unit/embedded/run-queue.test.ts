// The run queue: one run at a time, in order, an error not stopping the others, and the event loop
// getting a turn between runs that (like onnxruntime-node's) block it inside a setImmediate.
import { describe, expect, it } from 'vitest';
import { RunQueue } from '../../../gateway/backends/embedded/run-slots.ts';

/** Like an onnxruntime-node run: synchronous work inside a setImmediate. */
function blockingRun(log: string[], name: string, busyMs: number): Promise<string> {
  return new Promise((resolve) => {
    setImmediate(() => {
      const until = performance.now() + busyMs;
      while (performance.now() < until) {
        // busy, as ORT is on the event loop thread
      }
      log.push(name);
      resolve(name);
    });
  });
}

describe('RunQueue', () => {
  it('runs tasks one at a time, in order, and passes results and errors to their callers', async () => {
    const queue = new RunQueue();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, fail = false) => async () => {
      running++;
      most = Math.max(most, running);
      await blockingRun(log, name, 1);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const results = await Promise.allSettled([queue.enqueue(task('a')), queue.enqueue(task('b', true)), queue.enqueue(task('c'))]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'b failed', 'c']);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
    expect(queue.depth).toBe(0);
  });

  it('lets timers run between blocking runs (started all at once they would hold the loop for all of them)', async () => {
    const queue = new RunQueue();
    const log: string[] = [];
    const ticker = setInterval(() => log.push('tick'), 1);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.length = 0;
      await Promise.all(['r1', 'r2', 'r3', 'r4'].map((name) => queue.enqueue(() => blockingRun(log, name, 5))));
    } finally {
      clearInterval(ticker);
    }
    const runs = log.filter((entry) => entry !== 'tick');
    expect(runs).toEqual(['r1', 'r2', 'r3', 'r4']);
    const between = log.slice(log.indexOf('r1'), log.indexOf('r4'));
    expect(between.filter((entry) => entry === 'tick').length).toBeGreaterThanOrEqual(3);
  });

  it('(control) without the queue the same runs hold the loop with no timer in between', async () => {
    const log: string[] = [];
    const ticker = setInterval(() => log.push('tick'), 1);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.length = 0;
      await Promise.all(['r1', 'r2', 'r3', 'r4'].map((name) => blockingRun(log, name, 5)));
    } finally {
      clearInterval(ticker);
    }
    expect(log.slice(log.indexOf('r1'), log.indexOf('r4') + 1)).toEqual(['r1', 'r2', 'r3', 'r4']);
  });
});
