// Forwards every request to the backend on its own: the behaviour with batching off, and the path of
// models that do not batch.
import type { Backend, InferRequest, InferResult } from '../backends/backend.ts';
import type { GatewayError } from '../errors.ts';
import type { DispatchContext, InferDispatcher } from './infer-dispatcher.ts';

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
