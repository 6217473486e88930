// The Backend that serves MODEL_REPOSITORY itself with ONNX Runtime (onnxruntime-node, CPU), in-process,
// for when no Triton is configured. It answers like Triton would (names, shapes, versions, states,
// errors), so nothing above the Backend seam can tell which one runs the models.
//
// Limits: an ORT run cannot be cancelled once started, so the deadline and the abort signal are checked
// before the run (also when it leaves the run queue) and the answer is dropped after it when nobody wants
// it any more. onnxruntime-node 1.30 runs a session synchronously on the event loop thread: runs go
// through one queue (run-queue.ts) so the loop is held for one run at a time, but a slow model still
// delays everything else while it runs.
import { readFileSync } from 'node:fs';
import { GatewayError, isGatewayError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
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
  RepositoryEntry,
  ServerMetadata,
} from '../backend.ts';
import { planInfer, reportedOutputShape } from './infer-plan.ts';
import { modelMetadata } from './model-metadata.ts';
import { ModelRepository } from './model-repository.ts';
import type { RepositoryModel } from './repository-model.ts';
import { classifyOrtError } from './ort-error.ts';
import { fromOrtValue, toOrtTensor } from './ort-tensors.ts';
import { RunQueue } from './run-queue.ts';

export interface EmbeddedBackendOptions {
  /** The model repository directory (Triton's layout). */
  readonly repository: string;
  /** Re-scan the repository this often; 0 = load once at start and never poll. */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** When given, each run is counted and timed as rpc "ModelInfer" in the backend call metrics. */
  readonly metrics?: GatewayMetrics;
  /** ORT threads inside one operator, per run (default 1: the gateway runs many requests at once). */
  readonly intraOpNumThreads?: number;
  /** ORT threads across independent operators, per run (default 1). */
  readonly interOpNumThreads?: number;
}

export const DEFAULT_INTRA_OP_THREADS = 1;
export const DEFAULT_INTER_OP_THREADS = 1;
export const EMBEDDED_SERVER_NAME = 'triton-gateway-embedded';
export const EMBEDDED_EXTENSIONS: readonly string[] = Object.freeze(['model_repository', 'binary_tensor_data']);
const RETRY_AFTER_SECONDS = 1;

/** The gRPC status name Triton would have answered with, for the call metrics. */
const STATUS_OF: Partial<Record<ErrorCode, string>> = {
  BACKEND_REJECTED: 'INVALID_ARGUMENT',
  MODEL_NOT_FOUND: 'NOT_FOUND',
  MODEL_NOT_READY: 'UNAVAILABLE',
  SHUTTING_DOWN: 'UNAVAILABLE',
  BACKEND_UNAVAILABLE: 'UNAVAILABLE',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  REQUEST_CANCELLED: 'CANCELLED',
};

export class EmbeddedBackend implements Backend {
  readonly description: string;
  readonly #repository: ModelRepository;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #version: string;
  readonly #runs = new RunQueue();
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(options: EmbeddedBackendOptions) {
    this.description = `embedded onnxruntime ${options.repository}`;
    this.#metrics = options.metrics;
    this.#version = packageVersion();
    this.#repository = new ModelRepository({
      root: options.repository,
      pollIntervalMs: options.pollIntervalMs,
      settings: {
        intraOpNumThreads: options.intraOpNumThreads ?? DEFAULT_INTRA_OP_THREADS,
        interOpNumThreads: options.interOpNumThreads ?? DEFAULT_INTER_OP_THREADS,
      },
      logger: options.logger.child({ component: 'embedded-backend' }),
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
    let status = 'OK';
    try {
      return await this.#infer(request, options);
    } catch (error) {
      status = isGatewayError(error) ? (STATUS_OF[error.code] ?? 'INTERNAL') : 'INTERNAL';
      throw error;
    } finally {
      this.#metrics?.tritonCalls.inc({ rpc: 'ModelInfer', code: status });
      this.#metrics?.tritonDuration.observe({ rpc: 'ModelInfer' }, (performance.now() - started) / 1000);
    }
  }

  async serverMetadata(_options?: CallOptions): Promise<ServerMetadata> {
    this.#checkOpen();
    return { name: EMBEDDED_SERVER_NAME, version: this.#version, extensions: EMBEDDED_EXTENSIONS };
  }

  async serverReady(_options?: CallOptions): Promise<boolean> {
    return this.#started && this.#closing === undefined;
  }

  async modelReady(model: string, version: string, _options?: CallOptions): Promise<boolean> {
    return this.#closing === undefined && (this.#repository.model(model)?.isReady(version) ?? false);
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

  retryAfterSeconds(): number {
    return RETRY_AFTER_SECONDS;
  }

  /** Stops polling and releases every session once the requests running on it finished. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#repository.close();
    return this.#closing;
  }

  async #infer(request: InferRequest, options: CallOptions): Promise<InferResult> {
    checkWanted(options, request.model, 'before the run');
    const loaded = this.#model(request.model).serving(request.version);
    if (!loaded.acquire()) throw new GatewayError('MODEL_NOT_READY', `version ${loaded.version} of model '${request.model}' is unloading`);
    try {
      const plan = planInfer(loaded.config, request);
      const feeds = Object.fromEntries(plan.inputs.map((input) => [input.tensor.name, toOrtTensor(input.tensor, input.modelShape)]));
      const version = String(loaded.version);
      const fetches = plan.outputs.map((output) => output.name);
      const results = await this.#runs.enqueue(async () => {
        checkWanted(options, request.model, 'while waiting for its turn to run');
        return loaded.run(feeds, fetches).catch((error: unknown) => {
          throw classifyOrtError(error, request.model, version);
        });
      });
      checkWanted(options, request.model, 'while the model ran');
      const outputs = plan.outputs.map((output): RawTensor => {
        const value = results[output.name];
        const shape = value === undefined ? undefined : reportedOutputShape(output, plan.batchSize, value.dims);
        if (shape === undefined) {
          throw new GatewayError('BACKEND_ERROR', `model '${request.model}' version ${version} output '${output.name}' does not fit the config dims [${output.dims.join(',')}]`);
        }
        return fromOrtValue(output.name, output.datatype, value, shape);
      });
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
  if (options.signal?.aborted === true) throw new GatewayError('REQUEST_CANCELLED', `request for model '${model}' cancelled ${when}`);
  if (Date.now() >= options.deadline) throw new GatewayError('DEADLINE_EXCEEDED', `deadline of the request for model '${model}' passed ${when}`);
}

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
