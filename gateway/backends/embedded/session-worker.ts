// One ONNX Runtime session in a worker thread of its own (session-worker-main.ts), seen from the
// gateway's thread. onnxruntime-node 1.30 creates and runs sessions synchronously on the calling thread
// (inside a setImmediate), so in the gateway's thread one large run held /health for seconds; here the
// event loop only sends a job and receives the outputs. One worker per loaded version: a new version
// loads while the old one keeps serving, and retiring a version ends its thread. Input bytes are copied
// once into buffers the worker takes over (the caller's bytes may be a view of a larger body, and the
// batcher may still need them); output bytes come back transferred.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { GatewayError, shutDownBeforeAnswer } from '../../errors.ts';
import type { RawTensor } from '../backend.ts';
import type { SessionSettings } from './session-worker-protocol.ts';
import type { FromWorker, RunJob, SessionWorkerData, ToWorker } from './session-worker-protocol.ts';

/** The worker's module next to this one: .ts when run from source (tests), .js when built. */
const WORKER_URL = new URL(`./session-worker-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
/**
 * A worker's own V8 heap, set explicitly: without it a worker inherits --max-old-space-size from
 * NODE_OPTIONS (the image's 256 MiB for the main thread). Tensors travel as ArrayBuffers, outside this
 * heap; what lives in it is decoded BYTES strings. A worker that runs out dies alone (the gateway's
 * thread lives on); its version is then reloaded (LoadedVersion's onDied).
 */
export const DEFAULT_WORKER_HEAP_MB = 256;
const TERMINATED = 'was terminated';
/**
 * How long terminate() waits for a run to return before ending its thread anyway (which aborts the
 * process). Runs are bounded by EMBEDDED_MAX_ROWS and EMBEDDED_MAX_OUTPUT_BYTES, so this is a last resort.
 */
const NATIVE_RUN_WAIT_MS = 30_000;

export interface SessionMetadata {
  readonly inputs: readonly InferenceSession.ValueMetadata[];
  readonly outputs: readonly InferenceSession.ValueMetadata[];
}

interface Pending {
  resolve(outputs: readonly RawTensor[]): void;
  reject(error: Error): void;
}

export class SessionWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  /** Why the worker can take no more runs (released, or it died); undefined while it can. */
  #gone: string | undefined;
  /** The thread's end, once release() or terminate() started it. */
  #ending: Promise<void> | undefined;
  #exited = false;
  /** Called once when the thread dies on its own (out of memory, a crash); not after release() or terminate(). */
  onDied: ((reason: string) => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts a worker that loads `path`; resolves with the model's metadata, rejects with ORT's reason. */
  static async start(
    path: string,
    settings: SessionSettings,
    labels: SessionWorkerData['labels'] = {},
  ): Promise<{ readonly worker: SessionWorker; readonly metadata: SessionMetadata }> {
    const data: SessionWorkerData = { path, settings, labels };
    const thread = new Worker(WORKER_URL, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: settings.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB } });
    // A run in flight is awaited by its request; the thread itself must not keep the process alive.
    thread.unref();
    const worker = new SessionWorker(thread);
    const metadata = await new Promise<SessionMetadata>((resolve, reject) => {
      const early = (error: Error): void => reject(error);
      const exited = (code: number): void => reject(new Error(`the session worker exited (${code}) while loading`));
      thread.once('error', early);
      thread.once('exit', exited);
      thread.once('message', (message: FromWorker) => {
        thread.off('error', early);
        thread.off('exit', exited);
        if (message.kind === 'loaded') resolve({ inputs: message.inputs, outputs: message.outputs });
        else reject(new Error(message.kind === 'load-failed' ? message.message : `unexpected first message ${message.kind}`));
      });
    }).catch(async (error: unknown) => {
      worker.#gone = 'failed to load';
      await thread.terminate();
      throw error;
    });
    worker.#listen();
    return { worker, metadata };
  }

  /** Runs a job in the worker; the job's input bytes are copied once and handed over. */
  run(job: RunJob): Promise<readonly RawTensor[]> {
    if (this.#gone !== undefined) {
      const code = this.#gone === TERMINATED ? 'SHUTTING_DOWN' : 'MODEL_NOT_READY';
      return Promise.reject(new GatewayError(code, `model '${job.model}' version ${job.version}: the session worker ${this.#gone}`));
    }
    const id = this.#nextId++;
    // new Uint8Array(view) copies (a Buffer's slice() would be a view of its pool, which cannot move).
    const inputs = job.inputs.map((input) => ({ ...input, data: new Uint8Array(input.data) }));
    return new Promise<readonly RawTensor[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const message: ToWorker = { kind: 'run', id, job: { ...job, inputs } };
      this.#worker.postMessage(message, inputs.map((input) => input.data.buffer as ArrayBuffer));
    });
  }

  /** Releases the session and ends the thread once the runs sent before have answered. Safe to call twice. */
  release(): Promise<void> {
    this.#gone ??= 'was released';
    return this.#end();
  }

  /**
   * Shutdown past its grace: runs in progress fail with SHUTTING_DOWN at once, and the thread ends as
   * soon as ONNX Runtime has returned from the run it is in (at most NATIVE_RUN_WAIT_MS later). Ending it
   * inside the run would abort the whole process: onnxruntime-node throws a C++ exception when a run
   * returns into a terminating thread (exit code 134; the process's own exit does the same). Safe to call
   * twice, and after release().
   */
  async terminate(): Promise<void> {
    this.#gone ??= TERMINATED;
    this.#rejectPending(shutDownBeforeAnswer());
    const ended = this.#end();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, NATIVE_RUN_WAIT_MS)));
    await Promise.race([ended, limit]).finally(() => clearTimeout(timer));
    await this.#worker.terminate();
  }

  /** The thread's end once it is out of its run; started once, by release() or terminate(). */
  #end(): Promise<void> {
    this.#ending ??= this.#outOfRun().then(async () => {
      await this.#worker.terminate();
    });
    return this.#ending;
  }

  /** Resolves once the worker has handled every message sent before (its run returned and the session is released), or exited. */
  #outOfRun(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#worker.off('message', onMessage);
        this.#worker.off('exit', done);
        resolve();
      };
      const onMessage = (message: FromWorker): void => {
        if (message.kind === 'released') done();
      };
      this.#worker.on('message', onMessage);
      this.#worker.once('exit', done);
      this.#worker.postMessage({ kind: 'release' } satisfies ToWorker);
    });
  }

  #rejectPending(error: GatewayError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #listen(): void {
    this.#worker.on('message', (message: FromWorker) => {
      if (message.kind !== 'result' && message.kind !== 'failed') return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.kind === 'result') pending?.resolve(message.outputs);
      else pending?.reject(new GatewayError(message.error.code, message.error.message));
    });
    const died = (reason: string): void => {
      const unexpected = this.#gone === undefined;
      this.#gone ??= reason;
      // Like Triton's answer when a model's stub dies under a request: the model failed, not the link.
      this.#rejectPending(new GatewayError('MODEL_ERROR', `the session worker ${reason} during the run`));
      if (unexpected) this.onDied?.(reason);
    };
    this.#worker.on('error', (error) => died(`failed: ${error.message}`));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      died(`exited (${code})`);
    });
  }
}
