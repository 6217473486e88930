// The cap on ONNX Runtime runs executing at once across every loaded version of the backend. Each
// version runs one at a time in its own worker (run-queue.ts), but versions of different models would
// otherwise all run together: peak memory and CPU threads would grow with the number of models in use.
// Default: one run per CPU core (os.availableParallelism()), each run using EMBEDDED intra-op threads.
export class RunSlots {
  readonly limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  /** Runs `task` once fewer than `limit` tasks are running; first come, first served. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter (the count stays), or is freed.
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
