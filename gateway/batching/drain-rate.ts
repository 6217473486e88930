// How fast a model's queue drains, measured over a sliding window of completed batches; it turns a
// queue length into an honest Retry-After.

const DEFAULT_WINDOW_MS = 5000;
const MIN_RETRY_AFTER_SECONDS = 1;
const MAX_RETRY_AFTER_SECONDS = 30;
const MS_PER_SECOND = 1000;

export class DrainRate {
  readonly #windowMs: number;
  /** Completion times and row counts, oldest first; trimmed to the window on every write. */
  readonly #times: number[] = [];
  readonly #rows: number[] = [];
  #head = 0;
  #rowsInWindow = 0;

  constructor(windowMs = DEFAULT_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  record(rows: number, now: number): void {
    this.#times.push(now);
    this.#rows.push(rows);
    this.#rowsInWindow += rows;
    this.#trim(now);
  }

  /** Rows per second over the window; 0 when nothing finished lately. */
  rowsPerSecond(now: number): number {
    this.#trim(now);
    return (this.#rowsInWindow * MS_PER_SECOND) / this.#windowMs;
  }

  /** Seconds until `queuedRows` would have drained at the measured rate, clamped to [1, 30]. */
  retryAfterSeconds(queuedRows: number, now: number): number {
    const rate = this.rowsPerSecond(now);
    if (rate <= 0) return MIN_RETRY_AFTER_SECONDS;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(queuedRows / rate)));
  }

  #trim(now: number): void {
    const oldest = now - this.#windowMs;
    while (this.#head < this.#times.length && (this.#times[this.#head] ?? now) < oldest) {
      this.#rowsInWindow -= this.#rows[this.#head] ?? 0;
      this.#head++;
    }
    // Compact now and then instead of shifting on every removal.
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times.splice(0, this.#head);
      this.#rows.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
