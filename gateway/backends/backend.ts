// The seam between the gateway's shared logic (validation, batching, readiness, HTTP) and whatever runs
// the models: Triton over gRPC, or ONNX Runtime in-process. Tensors cross it as raw little-endian bytes,
// exactly as they travel in Triton's raw_input_contents. Each backend owns its quirks: above the seam,
// an unknown model is MODEL_NOT_FOUND whoever runs it, control of a model the backend does not have is
// refused, and the backend judges its own readiness and says why not.
import type { Datatype } from '../tensors/datatype.ts';

export interface RawTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export type ParameterValue = boolean | number | string;
export type Parameters = Readonly<Record<string, ParameterValue>>;

export interface InferRequest {
  readonly model: string;
  /** A pinned version, or '' for the backend's choice (the highest ready version). */
  readonly version: string;
  readonly id?: string;
  readonly inputs: readonly RawTensor[];
  /** Output names to compute; empty means every output of the model. */
  readonly outputs: readonly string[];
  /** Request parameters for the backend (sequence_id, priority, custom ones...), transport ones removed. */
  readonly parameters?: Parameters;
  /** Parameters of requested outputs (e.g. classification), by output name. */
  readonly outputParameters?: Readonly<Record<string, Parameters>>;
}

export interface InferResult {
  readonly model: string;
  /** The version that really served the request. */
  readonly version: string;
  readonly outputs: readonly RawTensor[];
}

export interface CallOptions {
  /** Absolute time (Date.now() clock) after which the answer is useless. */
  readonly deadline: number;
  /** Aborted when nobody waits for the answer any more; the backend cancels the call. */
  readonly signal?: AbortSignal;
  /** The deadline was shortened by the client, so missing it says nothing about the backend's health. */
  readonly clientDeadline?: boolean;
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  /** -1 = any size; with max_batch_size > 0 the leading -1 is the batch dimension. */
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

/** Triton's ModelConfig as its JSON form (what GET /v2/models/{m}/config returns). */
export type ModelConfigDocument = Readonly<Record<string, unknown>> & { readonly max_batch_size?: number };

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface RepositoryEntry {
  readonly name: string;
  readonly version?: string;
  readonly state?: string;
  readonly reason?: string;
}

/** The index's reason for a version taken out of service on purpose (explicit unload, removed directory), as Triton words it. */
export const UNLOADED_REASON = 'unloaded';

export type LinkState = 'closed' | 'half-open' | 'open';

export type BackendKind = 'triton' | 'embedded';

/** The backend's own judgement; `reason` names the backend and the check, never hosts or upstream texts. */
export type ServerReadiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** What one readiness poll saw of the models before asking the backend about itself. */
export interface ReadinessEvidence {
  readonly index: readonly RepositoryEntry[];
  /** The models that must be ready. */
  readonly served: readonly string[];
  /** There are served models, and every one has a ready version. */
  readonly servedReady: boolean;
  /** The previous poll found the backend ready. */
  readonly wasReady: boolean;
}

/**
 * Every method that names a model fails MODEL_NOT_FOUND when the backend does not have it (or that
 * version of it), and MODEL_NOT_READY when it has it but cannot serve it now.
 */
export interface Backend {
  /** Which kind of backend, for /ready and the metrics (which name no hosts or paths). */
  readonly kind: BackendKind;
  /** Human name for logs, e.g. "triton grpc 127.0.0.1:8001"; never shown to clients. */
  readonly description: string;
  infer(request: InferRequest, options: CallOptions): Promise<InferResult>;
  serverMetadata(options: CallOptions): Promise<ServerMetadata>;
  /** Whether the backend can serve, in its own judgement of what it answers and what the poll saw. */
  serverReadiness(evidence: ReadinessEvidence, options: CallOptions): Promise<ServerReadiness>;
  /** False for a model (version) the backend has but cannot serve now. */
  modelReady(model: string, version: string, options: CallOptions): Promise<boolean>;
  modelMetadata(model: string, version: string, options: CallOptions): Promise<ModelMetadata>;
  modelConfig(model: string, version: string, options: CallOptions): Promise<ModelConfigDocument>;
  repositoryIndex(readyOnly: boolean, options: CallOptions): Promise<readonly RepositoryEntry[]>;
  /** Resolves once a version of the model is ready; MODEL_NOT_FOUND when the repository has no such model. */
  loadModel(model: string, options: CallOptions): Promise<void>;
  /** MODEL_NOT_FOUND, with nothing changed, when the backend does not have the model. */
  unloadModel(model: string, options: CallOptions): Promise<void>;
  /** The breaker's view of the link; a backend with no remote link is always 'closed'. */
  linkState(): LinkState;
  /**
   * Closes connections; safe to call twice. `now`: end work in progress at once rather than wait for it
   * (shutdown after the drain).
   */
  close(options?: { readonly now?: boolean }): Promise<void>;
}
