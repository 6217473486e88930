// One ONNX Runtime run at a time. onnxruntime-node 1.30 runs a session synchronously on the event loop
// thread (inside a setImmediate), so starting many runs at once gains nothing: their callbacks all land in
// one check phase and block the loop for the sum of their durations (measured: 200 queued text_topic
// batches of 64 held it ~100 ms). Chained one after another, each run is scheduled from the previous
// one's completion, i.e. in the next loop iteration, so timers, sockets and probes get a turn between
// runs and the loop is held for at most one run. A queued task also sees its request's deadline and
// signal at the moment it would really start.
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
