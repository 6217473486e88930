// One model version loaded into an ONNX Runtime session (in a worker thread of its own, session-worker.ts):
// the config it was loaded with, the stamp of the files it came from, and a count of the requests running
// on it, so that retiring it (a removed or replaced version) lets those requests finish before the
// session is released. Its runs go through one queue, so a run waiting its turn is checked (deadline,
// cancellation) when it would really start, not when it was sent.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RawTensor } from '../backend.ts';
import type { EmbeddedModelConfig } from './model-config.ts';
import { sessionMismatch } from './model-io-check.ts';
import { RunQueue } from './run-slots.ts';
import type { RunSlots } from './run-slots.ts';
import type { RunJob, SessionSettings } from './session-worker-protocol.ts';
import { SessionWorker } from './session-worker.ts';

export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

export class LoadedVersion {
  readonly version: number;
  readonly config: EmbeddedModelConfig;
  /** Stamp of config.pbtxt and the model file this session was created from. */
  readonly stamp: string;
  readonly #worker: SessionWorker;
  readonly #runs = new RunQueue();
  readonly #slots: RunSlots;
  #inFlight = 0;
  #retiring = false;
  #released: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;
  #markReleased!: () => void;
  /** Resolves once the worker is gone (retired and released, or terminated). */
  readonly whenReleased = new Promise<void>((resolve) => {
    this.#markReleased = resolve;
  });

  private constructor(version: number, config: EmbeddedModelConfig, stamp: string, worker: SessionWorker, slots: RunSlots) {
    this.#slots = slots;
    this.version = version;
    this.config = config;
    this.stamp = stamp;
    this.#worker = worker;
  }

  /** Creates the session and checks the graph against the config; throws ModelLoadError with the reason. */
  static async load(
    path: string,
    version: number,
    config: EmbeddedModelConfig,
    stamp: string,
    settings: SessionSettings,
    slots: RunSlots,
  ): Promise<LoadedVersion> {
    // <model>/<version>/<file>: label files live in <model>, as Triton reads them; the worker keeps them.
    const labels = await readLabels(config, dirname(dirname(path)));
    let started: Awaited<ReturnType<typeof SessionWorker.start>>;
    try {
      started = await SessionWorker.start(path, settings, labels);
    } catch (error) {
      throw new ModelLoadError(`onnxruntime could not load ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const problem = sessionMismatch(config, started.metadata.inputs, started.metadata.outputs);
    if (problem !== undefined) {
      await started.worker.release();
      throw new ModelLoadError(`model and config.pbtxt disagree: ${problem}`);
    }
    return new LoadedVersion(version, config, stamp, started.worker, slots);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get retiring(): boolean {
    return this.#retiring;
  }

  /** Called once when the session's worker thread dies on its own: the version can serve no more. */
  set onDied(listener: (reason: string) => void) {
    this.#worker.onDied = listener;
  }

  /** Shutdown past its grace: runs in progress fail now, the worker ends once its run returned (SessionWorker.terminate). */
  terminate(): Promise<void> {
    this.#retiring = true;
    return this.#worker.terminate().finally(() => this.#markReleased());
  }

  /** Counts one request in; false once the version is retiring (the caller must pick another). */
  acquire(): boolean {
    if (this.#retiring) return false;
    this.#inFlight++;
    return true;
  }

  /** Counts one request out; the last one out of a retiring version releases the session. */
  release(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#onDrained?.();
  }

  /**
   * Runs the job in the session's worker after the runs queued before it and once a run slot is free (the
   * backend's cap on runs at once); `beforeStart` may throw to drop
   * it at its turn. ORT cannot cancel a run once it started.
   */
  run(job: RunJob, beforeStart: () => void): Promise<readonly RawTensor[]> {
    // Its turn in this version's queue, then a slot among all versions' runs; checked when it really starts.
    return this.#runs.enqueue(() =>
      this.#slots.run(async () => {
        beforeStart();
        return this.#worker.run(job);
      }),
    );
  }

  /** Takes no new requests, waits for the running ones, then releases the session. Safe to call twice. */
  retire(): Promise<void> {
    this.#retiring = true;
    this.#released ??= new Promise<void>((resolve) => {
      if (this.#inFlight === 0) resolve();
      else this.#onDrained = resolve;
    })
      .then(() => this.#worker.release())
      .finally(() => this.#markReleased());
    return this.#released;
  }
}

/** The lines of each output's label file (Triton: one label per line; a missing file fails the load). */
async function readLabels(config: EmbeddedModelConfig, modelDirectory: string): Promise<Readonly<Record<string, readonly string[]>>> {
  const labels: Record<string, readonly string[]> = {};
  for (const output of config.outputs) {
    if (output.labelFilename === undefined) continue;
    const path = join(modelDirectory, output.labelFilename);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ModelLoadError(`failed to read the label file ${path} of output '${output.name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    labels[output.name] = Object.freeze(lines);
  }
  return Object.freeze(labels);
}
