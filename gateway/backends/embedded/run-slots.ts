// When an ONNX Runtime run may start: one at a time per loaded version (RunQueue), and at most `limit`
// at once across every version of the backend (RunSlots).

// The cap on ONNX Runtime runs executing at once across every loaded version of the backend. Each
// version runs one at a time in its own worker (RunQueue below), but versions of different models would
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

// One ONNX Runtime run at a time per session (each loaded version runs in its own worker thread,
// session-worker.ts, which handles one message at a time anyway). Queued here rather than in the worker's
// message queue, a task sees its request's deadline and signal at the moment it would really start, so a
// request that waited past its deadline or whose client left is dropped without running.
export class RunQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  /** Runs queued or running. */
  get depth(): number {
    return this.#waiting;
  }

  /** Runs `task` after every task enqueued before it has settled; its result or error is the caller's. */
  enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.#waiting++;
    const result = this.#tail.then(task).finally(() => {
      this.#waiting--;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
