// How long the gateway's own event loop stalled, and when: a deadline missed while the loop could not run
// is the gateway's fault, not Triton's, so it must not count against the link (breaker, readiness).
// Built on perf_hooks.monitorEventLoopDelay, started once per process, its timers unref'd.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ELDHistogram } from 'node:perf_hooks';

/** The histograms' sampling interval: stalls shorter than this are not seen. */
const RESOLUTION_MS = 20;
/** Stalls are remembered per epoch; a stall is attributed to a call with this much imprecision (x2). */
const EPOCH_MS = 200;
/** Epochs remembered: ten minutes, REQUEST_TIMEOUT_MS's largest allowed value. */
const EPOCHS_KEPT = 3000;
const NS_PER_MS = 1e6;
/** A deadline is the loop's fault when the loop stalled for at least this share of the call's budget... */
const LAG_SHARE_EXCUSING_A_DEADLINE = 0.25;
/**
 * ...and at least this long: a process short of CPU (a busy node, a CPU quota) sees stalls of tens of
 * milliseconds, which must not excuse a Triton that missed a short deadline by itself.
 */
const MIN_STALL_EXCUSING_A_DEADLINE_MS = 200;

export class EventLoopDelay {
  // Two histograms reset in turn. A reset makes a histogram blind to the stall that ends its next
  // sample, so one is reset only while the other has sampled since its own reset (it will see the stall).
  readonly #histograms: readonly [ELDHistogram, ELDHistogram];
  readonly #epochEnds = new Float64Array(EPOCHS_KEPT);
  readonly #epochMaxMs = new Float64Array(EPOCHS_KEPT);
  #epochs = 0;
  /** Which histogram the next rotation reads and resets. */
  #turn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor() {
    this.#histograms = [monitorEventLoopDelay({ resolution: RESOLUTION_MS }), monitorEventLoopDelay({ resolution: RESOLUTION_MS })];
  }

  /** Safe to call twice. */
  start(): void {
    if (this.#timer !== undefined) return;
    for (const histogram of this.#histograms) histogram.enable();
    this.#timer = setInterval(() => this.#rotate(), EPOCH_MS);
    this.#timer.unref();
  }

  /** Safe to call twice. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const histogram of this.#histograms) histogram.disable();
  }

  /** The longest stall (ms beyond the sampling interval) the loop had since `since` (performance.now()). */
  maxDelayMsSince(since: number): number {
    let max = Math.max(...this.#histograms.map(stallMs));
    const oldest = Math.max(0, this.#epochs - EPOCHS_KEPT);
    for (let epoch = this.#epochs - 1; epoch >= oldest; epoch--) {
      const slot = epoch % EPOCHS_KEPT;
      if ((this.#epochEnds[slot] ?? 0) <= since) break;
      max = Math.max(max, this.#epochMaxMs[slot] ?? 0);
    }
    return max;
  }

  /** True when the loop stalled for a significant share of a call that had `budgetMs` from `since`. */
  excusesDeadline(since: number, budgetMs: number): boolean {
    return this.maxDelayMsSince(since) >= Math.max(LAG_SHARE_EXCUSING_A_DEADLINE * budgetMs, MIN_STALL_EXCUSING_A_DEADLINE_MS);
  }

  #rotate(): void {
    const histogram = this.#histograms[this.#turn] as ELDHistogram;
    const other = this.#histograms[1 - this.#turn] as ELDHistogram;
    // count > 0 means it has sampled twice since its reset, so it measures the next stall: only then may
    // this one go blind for a sample. (Right after a stall the rotation may run before either has sampled.)
    if (other.count === 0) return;
    // What it holds spans the epochs since its last reset (two, mostly).
    const slot = this.#epochs % EPOCHS_KEPT;
    this.#epochEnds[slot] = performance.now();
    this.#epochMaxMs[slot] = stallMs(histogram);
    this.#epochs += 1;
    histogram.reset();
    this.#turn = 1 - this.#turn;
  }
}

function stallMs(histogram: ELDHistogram): number {
  // Before its first sample a histogram's max is 0 (min is a huge sentinel).
  return histogram.count === 0 ? 0 : Math.max(0, histogram.max / NS_PER_MS - RESOLUTION_MS);
}

/**
 * Runs `callback` once the loop has started a new turn after now. A stall is recorded by the monitor's
 * timers, which run only in the next turn's timers phase (libuv reads the clock once per turn): a
 * deadline judged right after a stall must wait for them. Two immediates: the second runs in the check
 * phase of the next turn, after its timers.
 */
export function whenStallsRecorded(callback: () => void): void {
  setImmediate(() => setImmediate(callback));
}

let shared: EventLoopDelay | undefined;

/** The process's one monitor, started on first use. */
export function eventLoopDelay(): EventLoopDelay {
  if (shared === undefined) {
    shared = new EventLoopDelay();
    shared.start();
  }
  return shared;
}
