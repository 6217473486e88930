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
