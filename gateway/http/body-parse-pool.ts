// Parses large infer bodies in worker threads (piscina), so the event loop keeps answering probes and
// small requests while megabytes of JSON are parsed. A worker that runs out of its heap dies alone: the
// request gets a 413 and the pool starts a fresh thread; the gateway lives on.
// Parses wait for a thread in this pool's own queue, where a request that leaves is dropped; a parse
// that has a thread runs to its end (piscina would end the thread to cancel it, and a client that
// leaves would then cost a thread start), and the caller checks its signal afterwards.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { clientLeft, GatewayError, shutDownBeforeAnswer } from '../errors.ts';
import { jsonPartLength, splitBinaryInputs } from './infer-body.ts';
import type { InferBodyLimits, ParsedInferBody } from './infer-body.ts';
import type { ParseOutcome, ParseTask } from './body-parse-worker.ts';

export interface BodyParsePoolOptions {
  /** Threads parsing at once (PARSE_WORKERS). */
  readonly threads: number;
  /** Old-space cap of each thread's own heap, in MiB. */
  readonly heapMb: number;
}

/** An idle thread is ended after this long; the next large body starts one again (tens of ms). */
const IDLE_TIMEOUT_MS = 10_000;

// The worker is the sibling file with this file's own extension: .ts from source, .js once compiled.
const WORKER_FILE = new URL(`./body-parse-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

export class BodyParsePool {
  readonly #options: BodyParsePoolOptions;
  #pool: Piscina | undefined;
  /** Set by close(): a parse after it is refused rather than starting a new pool that outlives the stop. */
  #closed = false;
  /** Parses holding a thread. */
  #running = 0;
  /** Parses waiting for a thread, first come first served; each entry starts one. */
  readonly #waiting = new Set<() => void>();

  constructor(options: BodyParsePoolOptions) {
    this.#options = options;
  }

  /** Same result and errors as parseInferBody, computed in a worker; `signal` cancels a parse still waiting for a thread. */
  async parse(raw: Buffer, headerLength: string | undefined, limits: InferBodyLimits, signal: AbortSignal): Promise<ParsedInferBody> {
    await this.#thread(signal);
    try {
      return await this.#run(raw, headerLength, limits);
    } finally {
      this.#leave();
    }
  }

  async #run(raw: Buffer, headerLength: string | undefined, limits: InferBodyLimits): Promise<ParsedInferBody> {
    const jsonLength = jsonPartLength(raw.length, headerLength);
    const whole = jsonLength === raw.length && raw.byteOffset === 0 && raw.buffer.byteLength === raw.length && raw.buffer instanceof ArrayBuffer;
    // A body that is one buffer of its own moves to the worker; otherwise the JSON part is copied out.
    const json = whole ? new Uint8Array(raw.buffer) : Uint8Array.prototype.slice.call(raw, 0, jsonLength);
    const binary = whole ? new Uint8Array(0) : raw.subarray(jsonLength);
    const task: ParseTask = { json, limits };
    const outcome = (await this.#piscina()
      .run(task, { transferList: [json.buffer as ArrayBuffer] })
      .catch((error: unknown) => {
        throw toGatewayError(error);
      })) as ParseOutcome;
    if (!outcome.ok) throw new GatewayError(outcome.code, outcome.message);
    return { body: outcome.body, binaryInputs: splitBinaryInputs(outcome.body, binary), encodedInputs: new Map(outcome.encoded) };
  }

  /** Resolves once a thread is this parse's; rejects if `signal` aborts first. */
  #thread(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(cancelledWhileWaiting());
    if (this.#running < this.#options.threads) {
      this.#running += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const start = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#waiting.delete(start);
        reject(cancelledWhileWaiting());
      };
      this.#waiting.add(start);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the thread to the first waiting parse, if any. */
  #leave(): void {
    const next = this.#waiting.values().next();
    if (next.done === true) {
      this.#running -= 1;
      return;
    }
    this.#waiting.delete(next.value);
    next.value();
  }

  /** Ends the threads; safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close({ force: true });
  }

  #piscina(): Piscina {
    if (this.#closed) throw shutDownBeforeAnswer();
    this.#pool ??= new Piscina({
      filename: WORKER_FILE,
      minThreads: 0,
      maxThreads: this.#options.threads,
      idleTimeout: IDLE_TIMEOUT_MS,
      resourceLimits: { maxOldGenerationSizeMb: this.#options.heapMb },
    });
    return this.#pool;
  }
}

function toGatewayError(error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new GatewayError('PAYLOAD_TOO_LARGE', 'body: parsing it needs more memory than a parse worker has; send fewer or flatter values, or binary data');
  }
  return error;
}

function cancelledWhileWaiting(): GatewayError {
  return clientLeft('while its body waited to be parsed');
}
