// The event-loop delay monitor sees every stall of the loop, whenever it falls relative to its own
// rotation of histograms (a reset histogram is blind to its next sample), and attributes it to the calls
// that were waiting during it, not to calls that started afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLoopDelay, whenStallsRecorded } from '../../../gateway/observability/event-loop-delay.ts';
import { blockEventLoop as stall } from '../../support/gateway-harness.ts';

const STALL_MS = 250;
/** Offsets spread over the 200 ms epoch, so some stalls start right after a rotation. */
const OFFSETS_MS = [0, 13, 29, 41, 57, 73, 89, 101, 127, 149, 173, 197];

const afterTimers = (): Promise<void> => new Promise((resolve) => whenStallsRecorded(resolve));

const monitor = new EventLoopDelay();
monitor.start();
afterAll(() => monitor.stop());

describe('event-loop delay', () => {
  it('sees every stall, wherever it falls in the rotation, and excuses a deadline it explains', async () => {
    await sleep(100); // the histograms' first samples
    const seen: number[] = [];
    const excused: boolean[] = [];
    for (const offset of OFFSETS_MS) {
      await sleep(offset);
      const since = performance.now();
      stall(STALL_MS);
      await afterTimers();
      seen.push(Math.round(monitor.maxDelayMsSince(since)));
      excused.push(monitor.excusesDeadline(since, 300));
    }
    expect(seen.filter((ms) => ms < STALL_MS * 0.8), `stalls seen (ms): ${seen.join(', ')}`).toEqual([]);
    expect(excused).toEqual(OFFSETS_MS.map(() => true));
  });

  it('does not excuse a call that started well after the stall, nor a long budget a short stall does not explain', async () => {
    stall(STALL_MS);
    await afterTimers();
    await sleep(700);
    const since = performance.now();
    await sleep(100);
    expect(monitor.maxDelayMsSince(since)).toBeLessThan(100);
    expect(monitor.excusesDeadline(since, 300)).toBe(false);
    const longCall = performance.now();
    stall(STALL_MS);
    await afterTimers();
    expect(monitor.excusesDeadline(longCall, 30_000)).toBe(false);
  });
});
