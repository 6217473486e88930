// The Backend that serves MODEL_REPOSITORY itself with ONNX Runtime (onnxruntime-node, CPU), in-process,
// for when no Triton is configured. It answers like Triton would (names, shapes, versions, states,
// errors), so nothing above the Backend seam can tell which one runs the models.
//
// Each loaded version runs in a worker thread of its own (session-worker.ts), so the event loop never
// waits for ONNX Runtime; runs are capped in rows and output bytes (run-limits.ts) so that a small request
// cannot make the process allocate gigabytes. An ORT run cannot be cancelled once started, so the
// deadline and the abort signal are checked before the run (also when its turn comes) and the answer is
// dropped after it when nobody wants it any more.
import { readFileSync } from 'node:fs';
import { clientLeft, deadlinePassed, GatewayError, isGatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { CALL_OK } from '../../observability/metrics.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type {
  Backend,
  CallOptions,
  InferRequest,
  InferResult,
  LinkState,
  ModelConfigDocument,
  ModelMetadata,
  RawTensor,
  ReadinessEvidence,
  RepositoryEntry,
  ServerMetadata,
  ServerReadiness,
} from '../backend.ts';
import { classificationCounts } from './classification.ts';
import { planInfer } from './infer-plan.ts';
import { modelMetadata } from './model-config.ts';
import { ModelRepository } from './model-repository.ts';
import type { RepositoryModel } from './repository-model.ts';
import { checkPlanLimits, DEFAULT_EMBEDDED_MAX_OUTPUT_BYTES, DEFAULT_EMBEDDED_MAX_ROWS } from './run-limits.ts';
import type { RunLimits } from './run-limits.ts';

export interface EmbeddedBackendOptions {
  /** The model repository directory (Triton's layout). */
  readonly repository: string;
  /** Re-scan the repository this often; 0 = load once at start and never poll. */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** When given, each run is counted and timed as method "ModelInfer" in the backend call metrics. */
  readonly metrics?: GatewayMetrics;
  /** ORT threads inside one operator, per run (default 1: the gateway runs many requests at once). */
  readonly intraOpNumThreads?: number;
  /** ORT threads across independent operators, per run (default 1). */
  readonly interOpNumThreads?: number;
  /** Most rows of an input of a model without batching (EMBEDDED_MAX_ROWS; default DEFAULT_EMBEDDED_MAX_ROWS). */
  readonly maxRows?: number;
  /** Most bytes of a run's outputs (EMBEDDED_MAX_OUTPUT_BYTES; default DEFAULT_EMBEDDED_MAX_OUTPUT_BYTES). */
  readonly maxOutputBytes?: number;
  /** Each session worker's V8 heap in MiB (default DEFAULT_WORKER_HEAP_MB). */
  readonly workerHeapMb?: number;
  /** Most ONNX Runtime runs at once across all models (default: os.availableParallelism()). */
  readonly maxConcurrentRuns?: number;
}

export const DEFAULT_INTRA_OP_THREADS = 1;
export const DEFAULT_INTER_OP_THREADS = 1;
export const EMBEDDED_SERVER_NAME = 'triton-gateway-embedded';
export const EMBEDDED_EXTENSIONS: readonly string[] = Object.freeze(['model_repository', 'binary_tensor_data']);
/** The outcome label of a run that failed with something other than a GatewayError (a bug; answered 500). */
const UNEXPECTED_OUTCOME = 'INTERNAL';

export class EmbeddedBackend implements Backend {
  readonly kind = 'embedded';
  readonly description: string;
  readonly #repository: ModelRepository;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #version: string;
  readonly #limits: RunLimits;
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(options: EmbeddedBackendOptions) {
    this.description = `embedded onnxruntime ${options.repository}`;
    this.#metrics = options.metrics;
    this.#version = packageVersion();
    this.#limits = Object.freeze({ maxRows: options.maxRows ?? DEFAULT_EMBEDDED_MAX_ROWS, maxOutputBytes: options.maxOutputBytes ?? DEFAULT_EMBEDDED_MAX_OUTPUT_BYTES });
    this.#repository = new ModelRepository({
      root: options.repository,
      pollIntervalMs: options.pollIntervalMs,
      settings: {
        intraOpNumThreads: options.intraOpNumThreads ?? DEFAULT_INTRA_OP_THREADS,
        interOpNumThreads: options.interOpNumThreads ?? DEFAULT_INTER_OP_THREADS,
        ...(options.workerHeapMb === undefined ? {} : { workerHeapMb: options.workerHeapMb }),
      },
      logger: options.logger.child({ component: 'embedded-backend' }),
      ...(options.maxConcurrentRuns === undefined ? {} : { maxConcurrentRuns: options.maxConcurrentRuns }),
    });
  }

  /** Loads the repository (rejects when its directory cannot be read) and starts polling it. */
  async start(): Promise<void> {
    this.#checkOpen();
    await this.#repository.start();
    this.#started = true;
  }

  async infer(request: InferRequest, options: CallOptions): Promise<InferResult> {
    const started = performance.now();
    let outcome = CALL_OK;
    try {
      return await this.#infer(request, options);
    } catch (error) {
      outcome = isGatewayError(error) ? error.code : UNEXPECTED_OUTCOME;
      throw error;
    } finally {
      this.#metrics?.backendCalls.inc({ backend: 'embedded', method: 'ModelInfer', outcome });
      this.#metrics?.backendCallDuration.observe({ backend: 'embedded', method: 'ModelInfer' }, (performance.now() - started) / 1000);
    }
  }

  async serverMetadata(_options?: CallOptions): Promise<ServerMetadata> {
    this.#checkOpen();
    return { name: EMBEDDED_SERVER_NAME, version: this.#version, extensions: EMBEDDED_EXTENSIONS };
  }

  /** Ready once the repository was loaded, until closed; a failed model is the model's own check. */
  async serverReadiness(_evidence?: ReadinessEvidence, _options?: CallOptions): Promise<ServerReadiness> {
    if (this.#closing !== undefined) return { ready: false, reason: 'embedded backend closed' };
    if (!this.#started) return { ready: false, reason: 'embedded backend still loading the model repository' };
    return { ready: true };
  }

  async modelReady(model: string, version: string, _options?: CallOptions): Promise<boolean> {
    if (this.#closing !== undefined || !this.#started) return false;
    return this.#model(model).isReady(version);
  }

  async modelMetadata(model: string, version: string, _options?: CallOptions): Promise<ModelMetadata> {
    const found = this.#model(model);
    return modelMetadata(found.serving(version).config, found.readyVersions());
  }

  async modelConfig(model: string, version: string, _options?: CallOptions): Promise<ModelConfigDocument> {
    return this.#model(model).serving(version).config.document;
  }

  async repositoryIndex(readyOnly: boolean, _options?: CallOptions): Promise<readonly RepositoryEntry[]> {
    this.#checkOpen();
    return this.#repository.index(readyOnly);
  }

  async loadModel(model: string, _options?: CallOptions): Promise<void> {
    this.#checkOpen();
    await this.#repository.load(model);
  }

  async unloadModel(model: string, _options?: CallOptions): Promise<void> {
    this.#checkOpen();
    await this.#repository.unload(model);
  }

  linkState(): LinkState {
    return 'closed';
  }

  /**
   * Stops polling and releases every session once the requests running on it finished; with `now`, runs
   * in progress fail SHUTTING_DOWN at once (after the drain nobody waits for them, and an ONNX Runtime run
   * cannot be cancelled) and each session worker ends as soon as its run has returned. Idempotent.
   */
  close(options: { readonly now?: boolean } = {}): Promise<void> {
    this.#closing ??= this.#repository.close();
    if (options.now === true) return Promise.all([this.#closing, this.#repository.terminateAll()]).then(() => undefined);
    return this.#closing;
  }

  async #infer(request: InferRequest, options: CallOptions): Promise<InferResult> {
    checkWanted(options, request.model, 'before the run');
    const loaded = this.#model(request.model).serving(request.version);
    if (!loaded.acquire()) throw new GatewayError('MODEL_NOT_READY', `version ${loaded.version} of model '${request.model}' is unloading`);
    try {
      const plan = planInfer(loaded.config, request);
      checkPlanLimits(loaded.config, plan, this.#limits);
      const version = String(loaded.version);
      const outputs = await loaded.run(
        {
          model: request.model,
          version,
          batchSize: plan.batchSize,
          inputs: plan.inputs.map(({ tensor, modelShape }) => ({ ...tensor, shape: modelShape })),
          outputs: plan.outputs,
          classifications: classificationCounts(request, plan.outputs),
          maxOutputBytes: this.#limits.maxOutputBytes,
        },
        () => checkWanted(options, request.model, 'while waiting for its turn to run'),
      );
      checkWanted(options, request.model, 'while the model ran');
      return { model: request.model, version, outputs };
    } finally {
      loaded.release();
    }
  }

  #model(name: string): RepositoryModel {
    this.#checkOpen();
    // Like Triton before it is ready: the repository is still being loaded.
    if (!this.#started) throw new GatewayError('BACKEND_UNAVAILABLE', 'the embedded backend is still loading the model repository');
    const model = this.#repository.model(name);
    if (model === undefined) throw new GatewayError('MODEL_NOT_FOUND', `Request for unknown model: '${name}' is not found`);
    return model;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new GatewayError('SHUTTING_DOWN', 'embedded backend closed');
  }
}

/** The answer is useless once the caller went away or the deadline passed. */
function checkWanted(options: CallOptions, model: string, when: string): void {
  if (options.signal?.aborted === true) throw clientLeft(`${when} (model '${model}')`);
  if (Date.now() >= options.deadline) throw deadlinePassed(`${when} (model '${model}')`);
}

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
