// The micro-batcher's rules, with fake timers and an in-memory backend that records every call and
// answers when told to. Every test checks what each caller received.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, CallOptions, InferRequest, InferResult, RawTensor } from '../../../gateway/backends/backend.ts';
import { TritonRpcError } from '../../../gateway/backends/triton/triton-rpc-error.ts';
import type { DispatchContext } from '../../../gateway/batching/infer-dispatcher.ts';
import { MicroBatcher } from '../../../gateway/batching/micro-batcher.ts';
import type { MicroBatcherOptions } from '../../../gateway/batching/micro-batcher.ts';
import { GatewayError } from '../../../gateway/errors.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';
import { createMetrics } from '../../../gateway/observability/metrics.ts';
import type { GatewayMetrics } from '../../../gateway/observability/metrics.ts';

interface Call {
  readonly request: InferRequest;
  readonly options: CallOptions;
  answer(): void;
  fail(error: Error): void;
}

/** Rows of "x" (FP32 [n, 2]) come back doubled as "y", and "tag" (BYTES [n]) says which row it was. */
function answerFor(request: InferRequest): InferResult {
  const x = request.inputs[0] as RawTensor;
  const values = new Float32Array(Uint8Array.from(x.data).buffer);
  const rows = x.shape[0] ?? 0;
  const tags = Array.from({ length: rows }, (_, row) => `v${values[row * 2]}`);
  const tagBytes = Buffer.concat(tags.map((tag) => { const length = Buffer.alloc(4); length.writeUInt32LE(tag.length); return Buffer.concat([length, Buffer.from(tag)]); }));
  return {
    model: request.model,
    version: request.version || '3',
    outputs: [
      { name: 'y', datatype: 'FP32', shape: [rows, 2], data: new Uint8Array(Float32Array.from(values, (v) => v * 2).buffer) },
      { name: 'tag', datatype: 'BYTES', shape: [rows], data: tagBytes },
    ],
  };
}

class RecordingBackend {
  readonly calls: Call[] = [];
  /** Answer at once instead of waiting for answer()/fail(). */
  autoAnswer = false;
  /** Fail any batch that contains a row whose first value is this (a "guilty" request). */
  rejectRowsWith: number | undefined;

  readonly backend = {
    infer: (request: InferRequest, options: CallOptions): Promise<InferResult> =>
      new Promise<InferResult>((resolve, reject) => {
        const call: Call = { request, options, answer: () => resolve(answerFor(request)), fail: reject };
        this.calls.push(call);
        const x = new Float32Array(Uint8Array.from((request.inputs[0] as RawTensor).data).buffer);
        if (this.rejectRowsWith !== undefined && x.some((value, index) => index % 2 === 0 && value === this.rejectRowsWith)) {
          reject(new TritonRpcError(GrpcStatus.INVALID_ARGUMENT, 'bad row', 'ModelInfer'));
        } else if (this.autoAnswer) call.answer();
        options.signal?.addEventListener('abort', () => reject(new TritonRpcError(GrpcStatus.CANCELLED, 'cancelled', 'ModelInfer')));
      }),
  } as unknown as Backend;
}

let backend: RecordingBackend;
let metrics: GatewayMetrics;

function batcher(options: Partial<MicroBatcherOptions> = {}): MicroBatcher {
  return new MicroBatcher({
    backend: backend.backend,
    windowMs: 10,
    maxBatchRows: 8,
    queueLimitRows: 32,
    maxInflightBatches: 1,
    logger: createLogger('silent'),
    metrics,
    ...options,
  });
}

/** Fills the link of model "m" with a batch that stays at the backend until answered: what follows gathers. */
function occupyLink(b: MicroBatcher): Call {
  void b.dispatch(request(1, 999), context(1));
  const call = backend.calls.at(-1);
  if (call === undefined) throw new Error('the occupying request did not go at once');
  return call;
}

/** Rows of each batch the backend received, leaving out the call that occupied the link. */
function batchRows(from = 1): (number | undefined)[] {
  return backend.calls.slice(from).map((call) => call.request.inputs[0]?.shape[0]);
}

async function reasons(): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('gateway_batches_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((value) => [String(value.labels['reason']), value.value]));
}

/** A request whose rows start with firstValue, firstValue+1, ... (so every row is recognisable). */
function request(rows: number, firstValue: number, extra: Partial<InferRequest> = {}): InferRequest {
  const values = Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 === 0 ? firstValue + i / 2 : -1));
  return {
    model: 'm',
    version: '',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data: new Uint8Array(values.buffer) }],
    outputs: [],
    ...extra,
  };
}

function context(rows: number, extra: Partial<DispatchContext> = {}): DispatchContext {
  return { deadline: Date.now() + 1000, batchSize: rows, maxBatchSize: 16, ...extra };
}

function rowsOf(result: InferResult): { y: number[]; tags: string[] } {
  const [y, tag] = result.outputs as [RawTensor, RawTensor];
  const tags: string[] = [];
  for (let offset = 0; offset < tag.data.byteLength; ) {
    const length = Buffer.from(tag.data).readUInt32LE(offset);
    tags.push(Buffer.from(tag.data.subarray(offset + 4, offset + 4 + length)).toString());
    offset += 4 + length;
  }
  return { y: [...new Float32Array(Uint8Array.from(y.data).buffer)], tags };
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: GatewayError }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: GatewayError) => ({ ok: false as const, error }),
  );
}

beforeEach(() => {
  vi.useFakeTimers();
  backend = new RecordingBackend();
  metrics = createMetrics({ collectProcessMetrics: false });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('adaptive dispatch', () => {
  it('sends a request at once when the link is idle: no window, no timer', () => {
    const b = batcher();
    void b.dispatch(request(1, 10), context(1));
    expect(backend.calls).toHaveLength(1);
    expect(backend.calls[0]?.request.inputs[0]?.shape).toEqual([1, 2]);
  });

  it('sends at once while fewer batches than the limit are in flight, then gathers', async () => {
    const b = batcher({ maxInflightBatches: 3 });
    for (let i = 0; i < 5; i++) void b.dispatch(request(1, i * 10), context(1));
    expect(batchRows(0)).toEqual([1, 1, 1]);
    expect(await reasons()).toEqual({ link_idle: 3 });
  });

  it('gathers while the link is busy, and sends one batch of all that waited when a slot frees', async () => {
    const b = batcher({ windowMs: 1000 });
    const occupant = occupyLink(b);
    const results = [b.dispatch(request(1, 10), context(1)), b.dispatch(request(2, 20), context(2))];
    await vi.advanceTimersByTimeAsync(500);
    expect(backend.calls).toHaveLength(1);
    occupant.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(batchRows()).toEqual([3]);
    backend.calls[1]?.answer();
    const [first, second] = await Promise.all(results);
    expect(rowsOf(first as InferResult)).toEqual({ y: [20, -2], tags: ['v10'] });
    expect(rowsOf(second as InferResult)).toEqual({ y: [40, -2, 42, -2], tags: ['v20', 'v21'] });
    expect((first as InferResult).version).toBe('3');
    expect(await reasons()).toEqual({ link_idle: 1, slot_freed: 1 });
  });

  it('sends full batches while the link is busy, and gives a freed slot the rest, up to the row limit', async () => {
    const b = batcher({ windowMs: 1000 });
    const occupant = occupyLink(b);
    for (let i = 0; i < 20; i++) void b.dispatch(request(1, i), context(1));
    expect(batchRows()).toEqual([8, 8]);
    // The full batches count as in flight too: the slot is free when all three are back.
    occupant.answer();
    backend.calls[1]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(batchRows()).toEqual([8, 8]);
    backend.calls[2]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(batchRows()).toEqual([8, 8, 4]);
    expect(await reasons()).toEqual({ link_idle: 1, full: 2, slot_freed: 1 });
  });

  it('gives a freed slot to the queue whose oldest request has waited longest, not the first made', async () => {
    const b = batcher({ windowMs: 1000 });
    const occupant = occupyLink(b);
    const leaving = new AbortController();
    void settle(b.dispatch(request(1, 0, { version: '2' }), context(1, { signal: leaving.signal }))); // queue "v2" is made first
    await vi.advanceTimersByTimeAsync(1);
    void b.dispatch(request(1, 1), context(1)); // queue "latest"
    await vi.advanceTimersByTimeAsync(1);
    void b.dispatch(request(1, 2, { version: '2' }), context(1));
    leaving.abort(); // now "latest" holds the request that has waited longest
    occupant.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.calls.slice(1).map((call) => call.request.version)).toEqual(['']);
  });

  it('judges the window again when the members that set the timer have left', async () => {
    const b = batcher({ windowMs: 100 });
    occupyLink(b);
    const now = Date.now();
    void b.dispatch(request(5, 0), context(5, { deadline: now + 40 })); // its deadline sets the timer early
    void b.dispatch(request(4, 100), context(4, { deadline: now + 5000 })); // 9 rows: the 5 go as a full batch
    expect(batchRows()).toEqual([5]);
    await vi.advanceTimersByTimeAsync(60);
    expect(batchRows()).toEqual([5]);
    await vi.advanceTimersByTimeAsync(40);
    expect(batchRows()).toEqual([5, 4]);
    expect(await reasons()).toEqual({ link_idle: 1, full: 1, window: 1 });
  });

  it('bounds the wait by the window even while the link stays busy', async () => {
    const b = batcher();
    occupyLink(b);
    void b.dispatch(request(1, 10), context(1));
    await vi.advanceTimersByTimeAsync(4);
    void b.dispatch(request(2, 20), context(2));
    await vi.advanceTimersByTimeAsync(5);
    expect(backend.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batchRows()).toEqual([3]);
    expect(await reasons()).toEqual({ link_idle: 1, window: 1 });
  });

  it('sends a full batch at once while the link is busy, counting rows not requests', async () => {
    const b = batcher();
    occupyLink(b);
    void b.dispatch(request(5, 0), context(5));
    expect(backend.calls).toHaveLength(1);
    void b.dispatch(request(3, 100), context(3));
    expect(batchRows()).toEqual([8]);
    expect(await reasons()).toEqual({ link_idle: 1, full: 1 });
  });

  it('never exceeds the limit: a request that does not fit waits for the next batch', async () => {
    const b = batcher();
    occupyLink(b);
    void b.dispatch(request(5, 0), context(5));
    void b.dispatch(request(4, 100), context(4));
    // 9 rows wait: the first 5 cannot get more company, so they go now; the 4 wait out their window.
    expect(batchRows()).toEqual([5]);
    await vi.advanceTimersByTimeAsync(9);
    expect(batchRows()).toEqual([5]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batchRows()).toEqual([5, 4]);
  });

  it('uses the smaller of max_batch_size and MAX_BATCH_ROWS, and refuses a bigger request before queueing', async () => {
    const b = batcher({ maxBatchRows: 4 });
    const refused = await settle(b.dispatch(request(5, 0), context(5)));
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', status: 400 } });
    expect(refused.ok ? '' : refused.error.message).toContain('batch limit of 4 rows');
    occupyLink(b);
    void b.dispatch(request(3, 0), context(3, { maxBatchSize: 3 }));
    expect(batchRows()).toEqual([3]);
  });

  it('sends early for a member whose deadline would pass before the window', async () => {
    const b = batcher({ windowMs: 100 });
    occupyLink(b);
    void b.dispatch(request(1, 0), context(1, { deadline: Date.now() + 30 }));
    await vi.advanceTimersByTimeAsync(24);
    expect(backend.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(backend.calls).toHaveLength(2);
    expect(backend.calls[1]?.options.deadline).toBe(Date.now() + 4);
    expect(await reasons()).toEqual({ link_idle: 1, deadline: 1 });
  });

  it('gives the batch the tightest deadline of its members', async () => {
    const b = batcher();
    const now = Date.now();
    occupyLink(b);
    void b.dispatch(request(1, 0), context(1, { deadline: now + 500 }));
    void b.dispatch(request(1, 1), context(1, { deadline: now + 300 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.calls[1]?.options.deadline).toBe(now + 300);
  });

  it('keeps at most maxInflightBatches at the backend before the window, sending the next when one returns', async () => {
    const b = batcher({ maxInflightBatches: 2, windowMs: 1000 });
    for (let i = 0; i < 4; i++) void b.dispatch(request(1, i * 10), context(1));
    expect(backend.calls).toHaveLength(2);
    backend.calls[0]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(batchRows(0)).toEqual([1, 1, 2]);
  });
});

describe('batch keys', () => {
  it.each([
    ['versions', { version: '1' }, { version: '2' }],
    ['pinned and latest', { version: '1' }, { version: '' }],
    ['requested outputs', { outputs: ['y'] }, { outputs: [] }],
    ['models', { model: 'm' }, { model: 'n' }],
  ] as const)('never mixes %s', async (_what, first, second) => {
    const b = batcher();
    void b.dispatch(request(1, 0, first), context(1));
    void b.dispatch(request(1, 1, second), context(1));
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.calls).toHaveLength(2);
  });

  it('never mixes inner shapes', async () => {
    const b = batcher();
    const wide: InferRequest = { model: 'm', version: '', outputs: [], inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Uint8Array(12) }] };
    void b.dispatch(request(1, 0), context(1));
    void b.dispatch(wide, context(1));
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.calls.map((call) => call.request.inputs[0]?.shape)).toEqual([[1, 2], [1, 3]]);
  });
});

describe('load shedding', () => {
  it('answers 429 with a Retry-After from the measured drain rate when the rows held reach the limit', async () => {
    backend.autoAnswer = true;
    const b = batcher({ queueLimitRows: 15, maxInflightBatches: 1, windowMs: 1000 });
    // Measure: 8 rows drained.
    await b.dispatch(request(8, 0), context(8));
    await vi.advanceTimersByTimeAsync(100);
    backend.autoAnswer = false;
    void b.dispatch(request(8, 0), context(8)); // at the backend, never answered: its rows count
    void b.dispatch(request(4, 0), context(4));
    void b.dispatch(request(3, 0), context(3)); // 8 at the backend + 7 waiting = 15 rows held
    const shed = await settle(b.dispatch(request(1, 0), context(1)));
    expect(shed).toMatchObject({ ok: false, error: { code: 'QUEUE_FULL', status: 429 } });
    expect(shed.ok ? '' : shed.error.message).toContain('7 rows waiting, 8 at the backend');
    // 8 rows in the 5 s window = 1.6 rows/s; 15 rows held -> 9.4 s, rounded up.
    expect(shed.ok ? 0 : shed.error.retryAfterSeconds).toBe(10);
    expect(await metrics.registry.getSingleMetricAsString('gateway_shed_requests_total')).toMatch(/model="m"} 1/);
  });

  it('says before a request is read that a full queue would shed it, and only then', async () => {
    const b = batcher({ queueLimitRows: 4, maxInflightBatches: 1, windowMs: 1000 });
    expect(b.refuseIfFull('m')).toBeUndefined();
    occupyLink(b); // 1 row at the backend
    const waiting = [settle(b.dispatch(request(2, 0), context(2)))];
    expect(b.refuseIfFull('m')).toBeUndefined(); // 3 of 4 rows held: one more row fits
    waiting.push(settle(b.dispatch(request(1, 0), context(1))));
    expect(b.refuseIfFull('m')).toMatchObject({ code: 'QUEUE_FULL', status: 429, retryAfterSeconds: expect.any(Number) });
    expect(b.refuseIfFull('other')).toBeUndefined();
    b.destroy(new GatewayError('SHUTTING_DOWN', 'test over'));
    // The waiting requests are answered by destroy(), not left pending (or unhandled).
    for (const result of await Promise.all(waiting)) expect(result).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN' } });
  });
});

describe('deadlines and cancellation', () => {
  it('answers 504 before dispatch to a member whose deadline passed while it waited (a stalled event loop)', async () => {
    // The batcher's clock runs 60 ms ahead of its timers, as when the event loop was blocked.
    let lag = 0;
    const b = batcher({ windowMs: 1000, now: () => Date.now() + lag });
    occupyLink(b);
    const late = settle(b.dispatch(request(1, 0), context(1, { deadline: Date.now() + 50 })));
    lag = 60;
    await vi.advanceTimersByTimeAsync(50);
    expect(await late).toMatchObject({ ok: false, error: { code: 'DEADLINE_EXCEEDED', status: 504 } });
    expect(backend.calls).toHaveLength(1);
  });

  it('never holds a member past its deadline for a slot: it goes, with that deadline, while the link is busy', async () => {
    const b = batcher({ windowMs: 1000 });
    occupyLink(b); // never answered
    const started = Date.now();
    void b.dispatch(request(1, 0), context(1, { deadline: started + 200 }));
    await vi.advanceTimersByTimeAsync(200);
    expect(backend.calls).toHaveLength(2);
    expect(backend.calls[1]?.options.deadline).toBe(started + 200);
  });

  it('retries the members that still have time when the tightest deadline passes at the backend', async () => {
    const b = batcher();
    const now = Date.now();
    const impatient = settle(b.dispatch(request(1, 1), context(1, { deadline: now + 20, clientDeadline: true })));
    const patient = b.dispatch(request(1, 2), context(1, { deadline: now + 1000 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.calls[0]?.options).toMatchObject({ deadline: now + 20, clientDeadline: true });
    await vi.advanceTimersByTimeAsync(15);
    backend.calls[0]?.fail(new TritonRpcError(GrpcStatus.DEADLINE_EXCEEDED, 'deadline', 'ModelInfer', { clientDeadline: true }));
    expect(await impatient).toMatchObject({ ok: false, error: { code: 'DEADLINE_EXCEEDED', status: 504 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.calls[1]?.request.inputs[0]?.shape).toEqual([1, 2]);
    expect(backend.calls[1]?.options).toMatchObject({ deadline: now + 1000, clientDeadline: false });
    backend.calls[1]?.answer();
    expect(rowsOf(await patient).tags).toEqual(['v2']);
  });

  it('keeps queues of different batch limits apart (a version swap that raised max_batch_size)', async () => {
    const b = batcher({ maxBatchRows: 64 });
    void b.dispatch(request(2, 0), context(2, { maxBatchSize: 8 }));
    const bigger = settle(b.dispatch(request(12, 100), context(12, { maxBatchSize: 16 })));
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.calls.map((call) => call.request.inputs[0]?.shape[0]).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual([2, 12]);
    backend.calls.forEach((call) => call.answer());
    expect((await bigger).ok).toBe(true);
  });

  it('takes a member whose client left out of the queue', async () => {
    const b = batcher();
    occupyLink(b);
    const leaving = new AbortController();
    const left = settle(b.dispatch(request(1, 0), context(1, { signal: leaving.signal })));
    const stays = b.dispatch(request(1, 5), context(1));
    leaving.abort();
    expect(await left).toMatchObject({ ok: false, error: { code: 'REQUEST_CANCELLED' } });
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.calls[1]?.request.inputs[0]?.shape).toEqual([1, 2]);
    backend.calls[1]?.answer();
    expect(rowsOf(await stays).tags).toEqual(['v5']);
  });

  it('cancels the backend call when every member of an in-flight batch has left', async () => {
    const b = batcher();
    occupyLink(b);
    const clients = [new AbortController(), new AbortController()];
    const results = clients.map((client, i) => settle(b.dispatch(request(1, i), context(1, { signal: client.signal }))));
    await vi.advanceTimersByTimeAsync(10);
    clients[0]?.abort();
    expect(backend.calls[1]?.options.signal?.aborted).toBe(false);
    clients[1]?.abort();
    expect(backend.calls[1]?.options.signal?.aborted).toBe(true);
    for (const result of await Promise.all(results)) expect(result).toMatchObject({ ok: false, error: { code: 'REQUEST_CANCELLED' } });
  });
});

describe('fault isolation', () => {
  it('retries halves on INVALID_ARGUMENT so that only the guilty request fails', async () => {
    backend.autoAnswer = true;
    backend.rejectRowsWith = 30;
    const b = batcher();
    occupyLink(b);
    const results = [0, 10, 20, 30].map((first) => settle(b.dispatch(request(2, first), context(2))));
    await vi.advanceTimersByTimeAsync(0);
    const settled = await Promise.all(results);
    expect(settled.map((result) => result.ok)).toEqual([true, true, true, false]);
    expect(settled[3]).toMatchObject({ ok: false, error: { code: 'BACKEND_REJECTED', status: 400 } });
    expect(settled[1]?.ok && rowsOf(settled[1].value).tags).toEqual(['v10', 'v11']);
    // 1 batch of 4, halves of 2 and 2, then 1 and 1 for the half with the guilty member.
    expect(batchRows()).toEqual([8, 4, 4, 2, 2]);
  });

  it('fails every member with 503 on a link failure', async () => {
    const b = batcher();
    occupyLink(b);
    const results = [0, 1, 2].map((first) => settle(b.dispatch(request(1, first), context(1))));
    await vi.advanceTimersByTimeAsync(10);
    backend.calls[1]?.fail(new TritonRpcError(GrpcStatus.UNAVAILABLE, 'connection refused', 'ModelInfer'));
    for (const result of await Promise.all(results)) expect(result).toMatchObject({ ok: false, error: { code: 'BACKEND_UNAVAILABLE', status: 503 } });
    expect(backend.calls).toHaveLength(2);
  });
});

describe('models without batching', () => {
  it('go straight to the backend, one call each, without waiting', () => {
    const b = batcher();
    void b.dispatch(request(1, 0), context(0, { maxBatchSize: 0 }));
    void b.dispatch(request(1, 1), context(0, { maxBatchSize: 0 }));
    expect(backend.calls).toHaveLength(2);
  });
});

describe('close', () => {
  it('sends what is queued without waiting for the window and resolves when all answered', async () => {
    backend.autoAnswer = true;
    const b = batcher({ windowMs: 10_000 });
    const result = b.dispatch(request(1, 7), context(1));
    await b.close();
    expect(rowsOf(await result).tags).toEqual(['v7']);
    await expect(b.dispatch(request(1, 0), context(1))).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('sends the requests gathered behind a busy link at once, and waits for every batch before resolving', async () => {
    const b = batcher({ windowMs: 10_000 });
    const occupant = occupyLink(b);
    const gathered = [b.dispatch(request(1, 1), context(1)), b.dispatch(request(2, 2), context(2))];
    let closed = false;
    const closing = b.close().then(() => (closed = true));
    expect(batchRows()).toEqual([3]);
    backend.calls[1]?.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    occupant.answer();
    await closing;
    expect((await Promise.all(gathered)).map((result) => rowsOf(result).tags)).toEqual([['v1'], ['v2', 'v3']]);
    expect(await reasons()).toEqual({ link_idle: 1, shutdown: 1 });
  });
});
