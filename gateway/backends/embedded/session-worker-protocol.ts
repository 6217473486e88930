// The messages between the gateway's thread and a session worker (session-worker-main.ts): plain data
// that structured clone carries, tensor bytes in ArrayBuffers that are transferred, never copied twice.
import type { InferenceSession } from 'onnxruntime-node';
import type { ErrorCode } from '../../errors.ts';
import type { RawTensor } from '../backend.ts';
import type { TensorConfig } from './model-config.ts';

export interface SessionSettings {
  /** Threads ORT may use inside one operator. */
  readonly intraOpNumThreads: number;
  /** Threads ORT may use across independent operators. */
  readonly interOpNumThreads: number;
  /** The worker thread's V8 heap (old generation) in MiB; default DEFAULT_WORKER_HEAP_MB. */
  readonly workerHeapMb?: number;
}

/** workerData: the model file the worker loads at start, and its outputs' labels (sent once, not per run). */
export interface SessionWorkerData {
  readonly path: string;
  readonly settings: SessionSettings;
  /** Labels by output name, from the config's label_filename. */
  readonly labels: Readonly<Record<string, readonly string[]>>;
}

/** One run, as planned on the gateway's thread. */
export interface RunJob {
  readonly model: string;
  readonly version: string;
  /** Rows of the request; undefined when the model does not batch. */
  readonly batchSize: number | undefined;
  /** Each input's bytes with the shape ONNX Runtime is fed; the bytes are the worker's (transferred). */
  readonly inputs: readonly RawTensor[];
  readonly outputs: readonly TensorConfig[];
  /** `classification` counts by output name. */
  readonly classifications: Readonly<Record<string, number>>;
  readonly maxOutputBytes: number;
}

export type ToWorker = { readonly kind: 'run'; readonly id: number; readonly job: RunJob } | { readonly kind: 'release' };

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type FromWorker =
  | { readonly kind: 'loaded'; readonly inputs: readonly InferenceSession.ValueMetadata[]; readonly outputs: readonly InferenceSession.ValueMetadata[] }
  | { readonly kind: 'load-failed'; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: readonly RawTensor[] }
  | { readonly kind: 'failed'; readonly id: number; readonly error: WireError }
  | { readonly kind: 'released' };
