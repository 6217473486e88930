// What the gateway needs to know about one model version to validate and batch requests for it,
// derived from Triton's metadata (names, datatypes, full shapes) and config (max_batch_size).
import type { ModelConfigDocument, ModelMetadata } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import { isDatatype } from '../tensors/datatype.ts';
import type { Datatype } from '../tensors/datatype.ts';

export interface TensorSignature {
  readonly name: string;
  readonly datatype: Datatype;
  /** Full shape as clients send it: with a leading -1 batch dimension when maxBatchSize > 0. */
  readonly shape: readonly number[];
  /** The config marks the input optional: a request may leave it out. */
  readonly optional: boolean;
}

export interface ModelSignature {
  readonly name: string;
  readonly versions: readonly string[];
  /** 0 = the model does not batch; shapes must then match exactly. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** Lookups built once per model version, not per request. */
  readonly inputByName: ReadonlyMap<string, TensorSignature>;
  readonly outputNames: ReadonlySet<string>;
  readonly metadata: ModelMetadata;
  readonly config: ModelConfigDocument;
}

export function buildSignature(metadata: ModelMetadata, config: ModelConfigDocument): ModelSignature {
  const maxBatchSize = typeof config.max_batch_size === 'number' ? config.max_batch_size : 0;
  const optionalInputs = new Set(configEntries(config.input).filter((input) => input['optional'] === true).map((input) => input['name']));
  const tensor = (kind: string) => (entry: ModelMetadata['inputs'][number]): TensorSignature => {
    if (!isDatatype(entry.datatype)) {
      throw new GatewayError('BACKEND_ERROR', `model "${metadata.name}" ${kind} "${entry.name}" has a datatype the gateway does not know: ${entry.datatype}`);
    }
    const optional = kind === 'input' && optionalInputs.has(entry.name);
    return Object.freeze({ name: entry.name, datatype: entry.datatype, shape: Object.freeze([...entry.shape]), optional });
  };
  const inputs = Object.freeze(metadata.inputs.map(tensor('input')));
  const outputs = Object.freeze(metadata.outputs.map(tensor('output')));
  return Object.freeze({
    name: metadata.name,
    versions: Object.freeze([...metadata.versions]),
    maxBatchSize,
    inputs,
    outputs,
    inputByName: new Map(inputs.map((input) => [input.name, input])),
    outputNames: new Set(outputs.map((output) => output.name)),
    metadata,
    config,
  });
}

function configEntries(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null) : [];
}
