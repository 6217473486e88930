// The seam between the HTTP layer and the backend: the HTTP layer hands over one validated request and
// awaits its answer; what happens in between (straight through, or micro-batched) is the dispatcher's.
// The direct dispatcher is the straight-through one.
import type { Backend, CallOptions, InferRequest, InferResult } from '../backends/backend.ts';
import type { GatewayError } from '../errors.ts';

export interface DispatchContext extends CallOptions {
  /** Rows in the batch dimension (0 for a model without batching). */
  readonly batchSize: number;
  readonly maxBatchSize: number;
  /** Facts for the request's log line (e.g. its batch id), filled in by the dispatcher. */
  readonly tags?: Map<string, string | number>;
}

export interface InferDispatcher {
  dispatch(request: InferRequest, context: DispatchContext): Promise<InferResult>;
  /**
   * The refusal any request to `model` would get now whatever it holds (its queue is already full), so
   * the HTTP layer can answer before reading the body (counted as shed: the caller must refuse the
   * request with it); undefined when the model takes requests.
   */
  refuseIfFull(model: string): GatewayError | undefined;
  /** Lets queued and in-flight work finish; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Forwards every request to the backend on its own: the behaviour with batching off, and the path of
 * models that do not batch.
 */
export class DirectDispatcher implements InferDispatcher {
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  dispatch(request: InferRequest, context: DispatchContext): Promise<InferResult> {
    return this.#backend.infer(request, {
      deadline: context.deadline,
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.clientDeadline === true ? { clientDeadline: true } : {}),
    });
  }

  /** Nothing queues here: every request goes to the backend at once. */
  refuseIfFull(): GatewayError | undefined {
    return undefined;
  }

  async close(): Promise<void> {}
}
