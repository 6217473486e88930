// The gateway's micro-batcher, adaptive the way Nagle's algorithm is: a request goes to the backend at
// once while its model's link has room (fewer batches in flight than the limit); requests that arrive
// while the link is busy gather, and go together the moment a batch returns, the batch is full, or the
// oldest has waited the window (less when a member's deadline needs it). Batch size so follows load by
// itself, and a lone request never pays the window. Each member gets exactly its own rows back. Event-
// driven (one timer per queue), bounded (rows waiting or at the backend, per model), and honest when
// full (429 with a Retry-After from the measured drain rate). See DESIGN.md, "Batching".
import type { Backend, InferRequest, InferResult } from '../backends/backend.ts';
import { batchOverLimit, clientLeft, deadlinePassed, GatewayError, shuttingDown } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { BatchMember } from './batch-member.ts';
import { BatchQueue, batchKey } from './batch-queue.ts';
import type { FlushReason } from './batch-queue.ts';
import { DrainRate } from './drain-rate.ts';
import { DirectDispatcher } from './infer-dispatcher.ts';
import type { DispatchContext, InferDispatcher } from './infer-dispatcher.ts';
import { runBatch } from './batch-execution.ts';

export interface MicroBatcherOptions {
  readonly backend: Backend;
  /** Upper bound on how long a request waits for company while the link is busy; never a fixed cost. */
  readonly windowMs: number;
  /** Upper bound on rows per batch, on top of each model's max_batch_size. */
  readonly maxBatchRows: number;
  /** Rows per model that may wait or be at the backend before new requests are shed with 429. */
  readonly queueLimitRows: number;
  /** Batches of one model at the backend below which a request goes at once ("the link has room"). */
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
  inflightRows: number;
  inflightBatches: number;
  batchLatencyMs: number;
  readonly drainRate: DrainRate;
  readonly queues: Set<BatchQueue>;
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
    if (this.#closing) return Promise.reject(shuttingDown());
    const limit = Math.min(context.maxBatchSize, this.#options.maxBatchRows);
    if (context.batchSize > limit) {
      return Promise.reject(batchOverLimit(context.batchSize, limit));
    }
    const state = this.#model(request.model);
    const now = this.#now();
    const full = this.#queueFull(request.model, state, context.batchSize, now);
    if (full !== undefined) return Promise.reject(full);
    if (context.signal?.aborted) return Promise.reject(clientLeft('before queueing'));

    const key = batchKey(request, limit);
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = new BatchQueue(key, request.model, limit);
      this.#queues.set(key, queue);
      state.queues.add(queue);
    }
    const member = new BatchMember(request, context, now);
    queue.push(member);
    this.#addQueued(state, request.model, member.rows);
    this.#watchClient(member, queue, state);
    this.#sendDue(queue, 'link_idle');
    return member.promise;
  }

  /**
   * A model whose rows waiting or at the backend already reach QUEUE_LIMIT_ROWS refuses even one more
   * row: the refusal, counted as shed (a command, not a query: the caller must refuse with it).
   */
  refuseIfFull(model: string): GatewayError | undefined {
    const state = this.#models.get(model);
    return state === undefined ? undefined : this.#queueFull(model, state, 1, this.#now());
  }

  /** Sends everything still queued without waiting for the window or the link, then waits for all batches. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const queue of [...this.#queues.values()]) this.#sendDue(queue, 'shutdown');
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
      state.queues.delete(queue);
    }
    this.#queues.clear();
    this.#notifyIdle();
  }

  /**
   * The 429 for `rows` more rows of `model`, or undefined when they fit. Rows at the backend count too:
   * with the link's limit a soft one, the queue limit is what bounds the memory a model's traffic holds.
   */
  #queueFull(model: string, state: ModelState, rows: number, now: number): GatewayError | undefined {
    const heldRows = state.queuedRows + state.inflightRows;
    if (heldRows + rows <= this.#options.queueLimitRows) return undefined;
    this.#options.metrics.shedRequests.inc({ model });
    return new GatewayError(
      'QUEUE_FULL',
      `queue of model "${model}" is full (${state.queuedRows} rows waiting, ${state.inflightRows} at the backend, QUEUE_LIMIT_ROWS ${this.#options.queueLimitRows})`,
      { retryAfterSeconds: state.drainRate.retryAfterSeconds(heldRows, now) },
    );
  }

  #model(model: string): ModelState {
    let state = this.#models.get(model);
    if (state === undefined) {
      state = { queuedRows: 0, inflightRows: 0, inflightBatches: 0, batchLatencyMs: INITIAL_BATCH_LATENCY_MS, drainRate: new DrainRate(), queues: new Set() };
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
        member.reject(clientLeft('while queued'));
        if (queue.length === 0) this.#dropQueue(queue);
        else this.#arm(queue, state);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    member.onSettled = () => signal.removeEventListener('abort', onAbort);
  }

  /**
   * Sends what is due now: everything when closing, every full batch, and batches while the link has room
   * (`roomReason` says why there is room: a request arrived at an idle link, or a batch came back). What
   * is left waits for the queue's timer.
   */
  #sendDue(queue: BatchQueue, roomReason: FlushReason): void {
    const state = this.#model(queue.model);
    // Expired members are looked for only when something may leave: not on every arrival at a queue
    // that keeps gathering (its timer fires before any member's deadline, and expires them then).
    if (this.#closing || queue.rows >= queue.maxRows || state.inflightBatches < this.#options.maxInflightBatches) this.#expire(queue, state);
    while (queue.length > 0) {
      if (this.#closing) this.#send(queue, 'shutdown', state);
      else if (queue.rows >= queue.maxRows) this.#send(queue, 'full', state);
      else if (state.inflightBatches < this.#options.maxInflightBatches) this.#send(queue, roomReason, state);
      else break;
    }
    if (queue.length === 0) this.#dropQueue(queue);
    else this.#arm(queue, state);
  }

  /** Arms (or brings forward) the queue's one timer: the window of its oldest member, or a deadline. */
  #arm(queue: BatchQueue, state: ModelState): void {
    const due = this.#due(queue, state);
    if (due === undefined) return;
    if (queue.timer !== undefined && queue.timerDueAt <= due.at) return;
    queue.clearTimer();
    queue.timerDueAt = due.at;
    queue.timer = setTimeout(() => {
      queue.timer = undefined;
      queue.timerDueAt = Number.POSITIVE_INFINITY;
      this.#expire(queue, state);
      // The members that set this time may have left since (sent, or their client gone): judge again.
      const now = this.#due(queue, state);
      if (now !== undefined && now.at > this.#now()) {
        this.#arm(queue, state);
        return;
      }
      // The window bounds the wait even while the link is busy: the batch goes over the link's limit.
      if (now !== undefined) this.#send(queue, now.reason, state);
      this.#sendDue(queue, 'link_idle');
    }, Math.max(0, due.at - this.#now()));
    queue.timer.unref();
  }

  /** When the queue's oldest member has waited the window, or earlier when a member's deadline needs it. */
  #due(queue: BatchQueue, state: ModelState): { readonly at: number; readonly reason: FlushReason } | undefined {
    const oldest = queue.oldest;
    if (oldest === undefined) return undefined;
    const windowDue = oldest.enqueuedAt + this.#options.windowMs;
    const deadlineDue = queue.earliestDeadline() - state.batchLatencyMs;
    return deadlineDue < windowDue ? { at: deadlineDue, reason: 'deadline' } : { at: windowDue, reason: 'window' };
  }

  /** Answers 504 to members whose deadline passed while they waited. */
  #expire(queue: BatchQueue, state: ModelState): void {
    for (const member of queue.takeExpired(this.#now())) {
      this.#addQueued(state, queue.model, -member.rows);
      member.reject(deadlinePassed('while the request waited for a batch'));
    }
  }

  /** Takes one batch off the head of the queue and sends it. */
  #send(queue: BatchQueue, reason: FlushReason, state: ModelState): void {
    const members = queue.takeBatch();
    if (members.length === 0) {
      // Cannot happen while every member fits the queue's limit (checked at dispatch); never spin on it.
      const head = queue.oldest;
      if (head !== undefined && queue.remove(head)) {
        this.#addQueued(state, queue.model, -head.rows);
        head.reject(batchOverLimit(head.rows, queue.maxRows));
      }
      return;
    }
    const batchId = this.#nextBatchId++;
    let rows = 0;
    for (const member of members) rows += member.rows;
    const started = this.#now();
    const { metrics } = this.#options;
    this.#addQueued(state, queue.model, -rows);
    state.inflightBatches++;
    state.inflightRows += rows;
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
      state.inflightRows -= rows;
      state.batchLatencyMs += LATENCY_SMOOTHING * (finished - started - state.batchLatencyMs);
      state.drainRate.record(rows, finished);
      // The slot goes to the queue that has waited longest; if that one had only expired members left,
      // to the next.
      for (const queue of this.#byLongestWait(state)) {
        if (state.inflightBatches >= this.#options.maxInflightBatches) break;
        this.#sendDue(queue, 'slot_freed');
      }
      this.#notifyIdle();
    });
  }

  /** The model's queues that hold members, the one whose oldest has waited longest first. */
  #byLongestWait(state: ModelState): BatchQueue[] {
    const waitedSince = (queue: BatchQueue): number => queue.oldest?.enqueuedAt ?? Number.POSITIVE_INFINITY;
    return [...state.queues].filter((queue) => queue.length > 0).sort((a, b) => waitedSince(a) - waitedSince(b));
  }

  #dropQueue(queue: BatchQueue): void {
    queue.clearTimer();
    if (this.#queues.get(queue.key) === queue) this.#queues.delete(queue.key);
    this.#model(queue.model).queues.delete(queue);
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
