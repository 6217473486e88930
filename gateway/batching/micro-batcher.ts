// The gateway's micro-batcher: requests of the same batch key wait at most the batch window (less when
// a member's deadline needs it), then travel to the backend as one call; each member gets exactly its
// own rows back. Event-driven (one timer per queue, armed by its oldest member), bounded (rows per
// model, batches in flight per model), and honest when full (429 with a Retry-After from the measured
// drain rate). See DESIGN.md, "Batching".
import type { Backend, InferRequest, InferResult } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { batchKey } from './batch-key.ts';
import { BatchMember } from './batch-member.ts';
import { BatchQueue } from './batch-queue.ts';
import type { FlushReason } from './batch-queue.ts';
import { DirectDispatcher } from './direct-dispatcher.ts';
import { DrainRate } from './drain-rate.ts';
import type { DispatchContext, InferDispatcher } from './infer-dispatcher.ts';
import { runBatch } from './batch-execution.ts';

export interface MicroBatcherOptions {
  readonly backend: Backend;
  /** How long the oldest member may wait for company. 0 = flush on the next turn of the event loop. */
  readonly windowMs: number;
  /** Upper bound on rows per batch, on top of each model's max_batch_size. */
  readonly maxBatchRows: number;
  /** Rows that may wait per model before new requests are shed with 429. */
  readonly queueLimitRows: number;
  /** Batches of one model that may be at the backend at once. */
  readonly maxInflightBatches: number;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly now?: () => number;
}

/** Until a batch latency has been measured, assume this much for flushing ahead of a deadline. */
const INITIAL_BATCH_LATENCY_MS = 5;
const LATENCY_SMOOTHING = 0.2;

interface ModelState {
  queuedRows: number;
  inflightBatches: number;
  batchLatencyMs: number;
  readonly drainRate: DrainRate;
  /** Queues that have a batch due but wait for an in-flight slot, in the order they became due. */
  readonly waiting: BatchQueue[];
}

export class MicroBatcher implements InferDispatcher {
  readonly #options: MicroBatcherOptions;
  readonly #direct: DirectDispatcher;
  readonly #now: () => number;
  readonly #queues = new Map<string, BatchQueue>();
  readonly #models = new Map<string, ModelState>();
  #nextBatchId = 1;
  #closing = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: MicroBatcherOptions) {
    this.#options = options;
    this.#direct = new DirectDispatcher(options.backend);
    this.#now = options.now ?? Date.now;
  }

  dispatch(request: InferRequest, context: DispatchContext): Promise<InferResult> {
    // Unbatched models, and requests whose parameters (sequence ids, priorities, classification...) are
    // their own, go on their own.
    if (context.maxBatchSize <= 0 || request.parameters !== undefined || request.outputParameters !== undefined) {
      return this.#direct.dispatch(request, context);
    }
    if (this.#closing) return Promise.reject(new GatewayError('SHUTTING_DOWN', 'the gateway is shutting down'));
    const limit = Math.min(context.maxBatchSize, this.#options.maxBatchRows);
    if (context.batchSize > limit) {
      return Promise.reject(
        new GatewayError('INVALID_INPUT', `inputs: batch of ${context.batchSize} rows exceeds the batch limit of ${limit} rows (MAX_BATCH_ROWS / max_batch_size)`),
      );
    }
    const state = this.#model(request.model);
    const now = this.#now();
    if (state.queuedRows + context.batchSize > this.#options.queueLimitRows) {
      this.#options.metrics.shedRequests.inc({ model: request.model });
      return Promise.reject(
        new GatewayError('QUEUE_FULL', `queue of model "${request.model}" is full (${state.queuedRows} rows waiting, QUEUE_LIMIT_ROWS ${this.#options.queueLimitRows})`, {
          retryAfterSeconds: state.drainRate.retryAfterSeconds(state.queuedRows, now),
        }),
      );
    }
    if (context.signal?.aborted) return Promise.reject(new GatewayError('REQUEST_CANCELLED', 'client left before queueing'));

    // The limit is part of the key: after a swap to a version with another max_batch_size, requests under
    // the new limit must not join a queue sized for the old one.
    const key = `${batchKey(request)}\u0000${limit}`;
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = new BatchQueue(key, request.model, limit);
      this.#queues.set(key, queue);
    }
    const member = new BatchMember(request, context, now);
    queue.push(member);
    this.#addQueued(state, request.model, member.rows);
    this.#watchClient(member, queue, state);
    this.#schedule(queue);
    return member.promise;
  }

  /** Sends everything still queued without waiting for the window, then waits for all batches. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const queue of this.#queues.values()) this.#flush(queue, 'window');
    if (this.#idle()) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Fails everything still queued (batches in flight finish on their own); safe to call twice. */
  destroy(error: GatewayError): void {
    this.#closing = true;
    for (const queue of this.#queues.values()) {
      queue.clearTimer();
      const state = this.#model(queue.model);
      for (let batch = queue.takeBatch(); batch.length > 0; batch = queue.takeBatch()) {
        for (const member of batch) {
          this.#addQueued(state, queue.model, -member.rows);
          member.reject(error);
        }
      }
    }
    this.#queues.clear();
    this.#notifyIdle();
  }

  #model(model: string): ModelState {
    let state = this.#models.get(model);
    if (state === undefined) {
      state = { queuedRows: 0, inflightBatches: 0, batchLatencyMs: INITIAL_BATCH_LATENCY_MS, drainRate: new DrainRate(), waiting: [] };
      this.#models.set(model, state);
    }
    return state;
  }

  #addQueued(state: ModelState, model: string, rows: number): void {
    state.queuedRows += rows;
    this.#options.metrics.queueRows.set({ model }, state.queuedRows);
  }

  /** A client that leaves while its request waits is taken out of the queue at once. */
  #watchClient(member: BatchMember, queue: BatchQueue, state: ModelState): void {
    const signal = member.context.signal;
    if (signal === undefined) return;
    const onAbort = (): void => {
      if (queue.remove(member)) {
        this.#addQueued(state, queue.model, -member.rows);
        member.reject(new GatewayError('REQUEST_CANCELLED', 'client left while queued'));
        if (queue.length === 0) this.#dropQueue(queue);
        else this.#schedule(queue);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void member.promise.then(
      () => signal.removeEventListener('abort', onAbort),
      () => signal.removeEventListener('abort', onAbort),
    );
  }

  /** Flushes a full queue now; otherwise arms (or brings forward) the queue's one timer. */
  #schedule(queue: BatchQueue): void {
    if (queue.rows >= queue.maxRows || this.#closing) {
      this.#flush(queue, 'full');
      return;
    }
    const oldest = queue.oldest;
    if (oldest === undefined) return;
    const state = this.#model(queue.model);
    const windowDue = oldest.enqueuedAt + this.#options.windowMs;
    const deadlineDue = queue.earliestDeadline() - state.batchLatencyMs;
    const reason: FlushReason = deadlineDue < windowDue ? 'deadline' : 'window';
    const due = Math.min(windowDue, deadlineDue);
    if (queue.timer !== undefined && queue.timerDueAt <= due) return;
    queue.clearTimer();
    queue.timerDueAt = due;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.timerDueAt = Number.POSITIVE_INFINITY;
      this.#flush(queue, reason);
    }, Math.max(0, due - this.#now()));
    queue.timer.unref();
  }

  #flush(queue: BatchQueue, reason: FlushReason): void {
    const state = this.#model(queue.model);
    queue.clearTimer();
    for (const member of queue.takeExpired(this.#now())) {
      this.#addQueued(state, queue.model, -member.rows);
      member.reject(new GatewayError('DEADLINE_EXCEEDED', 'deadline passed while the request waited for a batch'));
    }
    while (queue.length > 0) {
      if (state.inflightBatches >= this.#options.maxInflightBatches) {
        if (!state.waiting.includes(queue)) state.waiting.push(queue);
        this.#armExpiry(queue);
        return;
      }
      const members = queue.takeBatch();
      if (members.length === 0) {
        // Cannot happen while every member fits the queue's limit (checked at dispatch); never spin on it.
        const head = queue.oldest;
        if (head !== undefined && queue.remove(head)) {
          this.#addQueued(state, queue.model, -head.rows);
          head.reject(new GatewayError('INVALID_INPUT', `inputs: batch of ${head.rows} rows exceeds the batch limit of ${queue.maxRows} rows`));
        }
        continue;
      }
      this.#start(queue, members, reason, state);
      // What is left may not be due yet: only a full remainder goes at once.
      if (queue.rows < queue.maxRows && !this.#closing) break;
    }
    if (queue.length === 0) this.#dropQueue(queue);
    else this.#schedule(queue);
  }

  /** A queue waiting for an in-flight slot still answers its members' deadlines on time. */
  #armExpiry(queue: BatchQueue): void {
    const due = queue.earliestDeadline();
    if (!Number.isFinite(due)) return;
    queue.clearTimer();
    queue.timerDueAt = due;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.timerDueAt = Number.POSITIVE_INFINITY;
      this.#flush(queue, 'deadline');
    }, Math.max(0, due - this.#now()));
    queue.timer.unref();
  }

  #start(queue: BatchQueue, members: BatchMember[], reason: FlushReason, state: ModelState): void {
    const batchId = this.#nextBatchId++;
    const rows = members.reduce((sum, member) => sum + member.rows, 0);
    const started = this.#now();
    const { metrics } = this.#options;
    this.#addQueued(state, queue.model, -rows);
    state.inflightBatches++;
    metrics.batches.inc({ model: queue.model, reason });
    metrics.batchRows.observe({ model: queue.model }, rows);
    for (const member of members) {
      metrics.queueWait.observe({ model: queue.model }, (started - member.enqueuedAt) / 1000);
      member.context.tags?.set('batchId', batchId);
      member.context.tags?.set('batchRows', rows);
    }
    const { logger } = this.#options;
    if (logger.isLevelEnabled('debug')) logger.debug({ batchId, model: queue.model, rows, members: members.length, reason }, 'batch sent');
    void runBatch(this.#options.backend, members, `batch-${batchId}`).finally(() => {
      const finished = this.#now();
      state.inflightBatches--;
      state.batchLatencyMs += LATENCY_SMOOTHING * (finished - started - state.batchLatencyMs);
      state.drainRate.record(rows, finished);
      const next = state.waiting.shift();
      if (next !== undefined) this.#flush(next, 'full');
      this.#notifyIdle();
    });
  }

  #dropQueue(queue: BatchQueue): void {
    queue.clearTimer();
    if (this.#queues.get(queue.key) === queue) this.#queues.delete(queue.key);
    const state = this.#model(queue.model);
    const waiting = state.waiting.indexOf(queue);
    if (waiting >= 0) state.waiting.splice(waiting, 1);
  }

  #idle(): boolean {
    for (const state of this.#models.values()) if (state.inflightBatches > 0 || state.queuedRows > 0) return false;
    return true;
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#idle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
