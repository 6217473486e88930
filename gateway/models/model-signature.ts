// What the gateway needs to know about one model version to validate and batch requests for it,
// derived from Triton's metadata (names, datatypes, full shapes) and config (max_batch_size).
import type { ModelConfigDocument, ModelMetadata } from '../backends/backend.ts';
import { isDatatype } from '../tensors/datatype.ts';
import type { Datatype } from '../tensors/datatype.ts';

export interface TensorSignature {
  readonly name: string;
  readonly datatype: Datatype;
  /** Full shape as clients send it: with a leading -1 batch dimension when maxBatchSize > 0. */
  readonly shape: readonly number[];
}

export interface ModelSignature {
  readonly name: string;
  readonly versions: readonly string[];
  /** 0 = the model does not batch; shapes must then match exactly. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  readonly metadata: ModelMetadata;
  readonly config: ModelConfigDocument;
}

export function buildSignature(metadata: ModelMetadata, config: ModelConfigDocument): ModelSignature {
  const maxBatchSize = typeof config.max_batch_size === 'number' ? config.max_batch_size : 0;
  const tensor = (kind: string) => (entry: ModelMetadata['inputs'][number]): TensorSignature => {
    if (!isDatatype(entry.datatype)) throw new Error(`model ${metadata.name} ${kind} ${entry.name}: unknown datatype ${entry.datatype}`);
    return Object.freeze({ name: entry.name, datatype: entry.datatype, shape: Object.freeze([...entry.shape]) });
  };
  return Object.freeze({
    name: metadata.name,
    versions: Object.freeze([...metadata.versions]),
    maxBatchSize,
    inputs: Object.freeze(metadata.inputs.map(tensor('input'))),
    outputs: Object.freeze(metadata.outputs.map(tensor('output'))),
    metadata,
    config,
  });
}
