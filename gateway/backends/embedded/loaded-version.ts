// One model version loaded into an ONNX Runtime session: the config it was loaded with, the stamp of the
// files it came from, and a count of the requests running on it, so that retiring it (a removed or
// replaced version) lets those requests finish before the session is released.
import { InferenceSession } from 'onnxruntime-node';
import type { Tensor } from 'onnxruntime-node';
import type { EmbeddedModelConfig } from './model-config.ts';
import { sessionMismatch } from './model-io-check.ts';

export interface SessionSettings {
  /** Threads ORT may use inside one operator. */
  readonly intraOpNumThreads: number;
  /** Threads ORT may use across independent operators. */
  readonly interOpNumThreads: number;
}

/** ORT's own log: errors are reported through the gateway's logger, so keep its stderr for fatal ones. */
const ORT_LOG_FATAL_ONLY = 4;

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
  readonly #session: InferenceSession;
  #inFlight = 0;
  #retiring = false;
  #released: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;

  private constructor(version: number, config: EmbeddedModelConfig, stamp: string, session: InferenceSession) {
    this.version = version;
    this.config = config;
    this.stamp = stamp;
    this.#session = session;
  }

  /** Creates the session and checks the graph against the config; throws ModelLoadError with the reason. */
  static async load(path: string, version: number, config: EmbeddedModelConfig, stamp: string, settings: SessionSettings): Promise<LoadedVersion> {
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(path, {
        intraOpNumThreads: settings.intraOpNumThreads,
        interOpNumThreads: settings.interOpNumThreads,
        executionMode: 'sequential',
        logSeverityLevel: ORT_LOG_FATAL_ONLY,
      });
    } catch (error) {
      throw new ModelLoadError(`onnxruntime could not load ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const problem = sessionMismatch(config, session.inputMetadata, session.outputMetadata);
    if (problem !== undefined) {
      await session.release();
      throw new ModelLoadError(`model and config.pbtxt disagree: ${problem}`);
    }
    return new LoadedVersion(version, config, stamp, session);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get retiring(): boolean {
    return this.#retiring;
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
   * Runs the graph. ORT cannot cancel a run once it started; onnxruntime-node 1.30 runs it
   * synchronously on the event loop thread (inside a setImmediate), so a long run delays everything else.
   */
  run(feeds: Record<string, Tensor>, fetches: readonly string[]): Promise<InferenceSession.ReturnType> {
    return this.#session.run(feeds, [...fetches], { logSeverityLevel: ORT_LOG_FATAL_ONLY });
  }

  /** Takes no new requests, waits for the running ones, then releases the session. Safe to call twice. */
  retire(): Promise<void> {
    this.#retiring = true;
    this.#released ??= new Promise<void>((resolve) => {
      if (this.#inFlight === 0) resolve();
      else this.#onDrained = resolve;
    }).then(() => this.#session.release());
    return this.#released;
  }
}
