// Counts the requests the gateway is working on, and once draining starts, refuses new ones and tells
// shutdown when the last one has been answered.

export class DrainGate {
  readonly #expired = new AbortController();
  readonly #closing = new AbortController();
  readonly #watched = new Set<AbortController>();
  #inFlight = 0;
  #draining = false;
  #waiters: (() => void)[] = [];

  get draining(): boolean {
    return this.#draining;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Aborted when the grace period is over: work still running is cut short and answered 503. */
  get expired(): AbortSignal {
    return this.#expired.signal;
  }

  /**
   * Aborted when the listener is about to close or the grace period is over: a refusal still waiting
   * for its body to be dropped is answered at once, before its connection is closed.
   */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** The listener closes next (idempotent). */
  close(): void {
    this.#closing.abort();
  }

  /** Ends the grace period (idempotent): every watched request's controller is aborted too. */
  expire(): void {
    this.#closing.abort();
    this.#expired.abort();
    for (const controller of this.#watched) controller.abort();
    this.#watched.clear();
  }

  /**
   * Aborts `controller` when the grace period ends, until the returned function is called. Cheaper per
   * request than AbortSignal.any([own, expired]), which links and later unlinks a composite signal.
   */
  watch(controller: AbortController): () => void {
    if (this.#expired.signal.aborted) {
      controller.abort();
      return () => {};
    }
    this.#watched.add(controller);
    return () => this.#watched.delete(controller);
  }

  /** False once draining has begun: the caller must refuse the request. */
  tryEnter(): boolean {
    if (this.#draining) return false;
    this.#inFlight++;
    return true;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#draining) this.#release();
  }

  /** Starts draining (idempotent) and resolves when nothing is in flight. */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
