// One request waiting in (or travelling with) a batch. It settles exactly once, whatever happens first:
// its share of the answer, an error, its deadline, or its client leaving.
import type { InferRequest, InferResult } from '../backends/backend.ts';
import type { GatewayError } from '../errors.ts';
import type { DispatchContext } from './infer-dispatcher.ts';

export class BatchMember {
  readonly request: InferRequest;
  readonly rows: number;
  readonly deadline: number;
  readonly enqueuedAt: number;
  readonly context: DispatchContext;
  readonly promise: Promise<InferResult>;
  #resolve!: (result: InferResult) => void;
  #reject!: (error: GatewayError) => void;
  #settled = false;
  /** Runs once when the member settles (the batcher's unhooking from the client's signal). */
  onSettled: (() => void) | undefined;

  constructor(request: InferRequest, context: DispatchContext, now: number) {
    this.request = request;
    this.rows = context.batchSize;
    this.deadline = context.deadline;
    this.enqueuedAt = now;
    this.context = context;
    this.promise = new Promise<InferResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(result: InferResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled?.();
    this.#resolve(result);
  }

  reject(error: GatewayError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettled?.();
    this.#reject(error);
  }
}
