// A model's config.pbtxt -> the typed view the embedded backend serves from, plus the config as the JSON
// document Triton would answer for it (the defaults Triton fills in: name, platform, backend, version
// policy, model file name, instance group). Refuses what ONNX Runtime in-process cannot serve the way
// Triton would, with a reason that ends up in the repository index.
import { datatypeFromConfig } from '../../tensors/datatype.ts';
import type { Datatype } from '../../tensors/datatype.ts';
import type { ModelConfigDocument } from '../backend.ts';
import { messageToJson } from './config-document.ts';
import type { JsonObject } from './config-document.ts';
import { MODEL_CONFIG_SCHEMA } from './config-schema.ts';
import { asTritonConfigJson } from './config-wire.ts';
import { parsePbtxt } from './pbtxt.ts';

export const ONNX_PLATFORM = 'onnxruntime_onnx';
export const ONNX_BACKEND = 'onnxruntime';
export const DEFAULT_MODEL_FILENAME = 'model.onnx';
const DEFAULT_LATEST_VERSIONS = 1;
/** Sections of Triton's config that change how requests are scheduled; serving them as plain models would lie. */
const UNSUPPORTED_SECTIONS = ['sequence_batching', 'ensemble_scheduling', 'batch_input', 'batch_output'];

export interface TensorConfig {
  readonly name: string;
  readonly datatype: Datatype;
  /** Per-row dims as configured (the full shape when the model does not batch); -1 = any size. */
  readonly dims: readonly number[];
  /** `reshape { shape }`: what the model itself sees instead of dims; undefined when not configured. */
  readonly reshape: readonly number[] | undefined;
  readonly optional: boolean;
  /** `label_filename`: a file of one label per line in the model directory (classification); undefined when unset. */
  readonly labelFilename: string | undefined;
}

export type VersionPolicy =
  | { readonly kind: 'latest'; readonly count: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'specific'; readonly versions: readonly number[] };

export interface EmbeddedModelConfig {
  readonly name: string;
  /** 0 = no batching. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorConfig[];
  readonly outputs: readonly TensorConfig[];
  readonly versionPolicy: VersionPolicy;
  /** File inside each version directory (default_model_filename, else model.onnx). */
  readonly modelFilename: string;
  /** Triton's ModelConfig JSON for GET .../config, with Triton's defaults filled in. */
  readonly document: ModelConfigDocument;
}

export class ModelConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelConfigError';
  }
}

/** Parses and checks config.pbtxt of the model in directory `modelName`. Throws ModelConfigError. */
export function parseModelConfig(text: string, modelName: string): EmbeddedModelConfig {
  let document: JsonObject;
  try {
    const message = parsePbtxt(text);
    const unsupported = UNSUPPORTED_SECTIONS.find((section) => message.fields.has(section));
    if (unsupported !== undefined) throw new ModelConfigError(`${unsupported} is not supported by the embedded backend`);
    document = messageToJson(message, MODEL_CONFIG_SCHEMA);
  } catch (error) {
    if (error instanceof ModelConfigError) throw error;
    throw new ModelConfigError(`invalid config.pbtxt: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  fillTritonDefaults(document, modelName);
  const fail = (message: string): never => {
    throw new ModelConfigError(message);
  };
  if (document['name'] !== modelName) fail(`config name "${String(document['name'])}" does not match the model directory "${modelName}"`);
  const notServed = (field: string) => fail(`${field} "${String(document[field])}" is not served by the embedded backend (only ${field === 'backend' ? ONNX_BACKEND : ONNX_PLATFORM})`);
  if (document['backend'] !== '' && document['backend'] !== ONNX_BACKEND) notServed('backend');
  if (document['platform'] !== ONNX_PLATFORM) notServed('platform');
  if (document['backend'] !== ONNX_BACKEND) notServed('backend');
  const maxBatchSize = document['max_batch_size'] as number;
  if (maxBatchSize < 0) fail(`max_batch_size ${maxBatchSize} must be >= 0`);
  const inputs = tensors(document['input'], 'input', fail);
  const outputs = tensors(document['output'], 'output', fail);
  const modelFilename = document['default_model_filename'] as string;
  if (!isPlainFileName(modelFilename)) fail(`default_model_filename "${modelFilename}" must be a plain file name`);
  return Object.freeze({
    name: modelName,
    maxBatchSize,
    inputs,
    outputs,
    versionPolicy: versionPolicy(document['version_policy'] as JsonObject, fail),
    modelFilename,
    document: deepFreeze(asTritonConfigJson(document)) as ModelConfigDocument,
  });
}

/** What Triton's config normalisation adds to a config before it answers ModelConfig (seen on Triton 2.51). */
function fillTritonDefaults(document: JsonObject, modelName: string): void {
  if (document['name'] === '') document['name'] = modelName;
  const backend = document['backend'];
  const platform = document['platform'];
  if (platform === '' && (backend === '' || backend === ONNX_BACKEND)) document['platform'] = ONNX_PLATFORM;
  if (backend === '' && (platform === '' || platform === ONNX_PLATFORM)) document['backend'] = ONNX_BACKEND;
  if (document['default_model_filename'] === '') document['default_model_filename'] = DEFAULT_MODEL_FILENAME;
  if (document['version_policy'] === null) {
    document['version_policy'] = { latest: { num_versions: DEFAULT_LATEST_VERSIONS }, policy_choice: 'latest' };
  }
  const batching = document['dynamic_batching'] as JsonObject | null;
  const preferred = batching?.['preferred_batch_size'] as number[] | undefined;
  const maxBatchSize = document['max_batch_size'] as number;
  if (preferred !== undefined && preferred.length === 0 && maxBatchSize > 0) preferred.push(maxBatchSize);
  const groups = document['instance_group'] as JsonObject[];
  if (groups.length === 0) groups.push({ name: '', count: 1, gpus: [], kind: 'KIND_CPU' });
  groups.forEach((group, i) => {
    if (group['name'] === '') group['name'] = `${modelName}_${i}`;
    if (group['count'] === 0) group['count'] = 1;
    if (group['kind'] === 'KIND_AUTO') group['kind'] = 'KIND_CPU';
  });
}

function tensors(list: unknown, kind: 'input' | 'output', fail: (message: string) => never): readonly TensorConfig[] {
  const entries = list as JsonObject[];
  if (entries.length === 0) fail(`the config lists no ${kind}s (the embedded backend does not auto-complete configs)`);
  const seen = new Set<string>();
  return Object.freeze(
    entries.map((entry) => {
      const name = entry['name'] as string;
      const what = `${kind} "${name}"`;
      if (name === '') fail(`an ${kind} has no name`);
      if (seen.has(name)) fail(`${what} is listed twice`);
      seen.add(name);
      const configType = entry['data_type'] as string;
      const datatype = datatypeFromConfig(configType);
      if (datatype === undefined) fail(`${what} has data_type ${configType}`);
      if (datatype === 'BF16') fail(`${what}: TYPE_BF16 tensors are not supported by onnxruntime-node`);
      if (entry['is_shape_tensor'] === true) fail(`${what}: shape tensors are not supported by the embedded backend`);
      const dims = checkDims(entry['dims'] as number[], `${what} dims`, fail);
      if (dims.length === 0) fail(`${what} must specify dims`);
      const reshapeEntry = entry['reshape'] as JsonObject | null;
      const reshape = reshapeEntry === null ? undefined : checkDims(reshapeEntry['shape'] as number[], `${what} reshape`, fail);
      if (reshape !== undefined && !sameSize(dims, reshape)) fail(`${what} has reshape [${reshape.join(', ')}] of a different size than dims [${dims.join(', ')}]`);
      const labels = entry['label_filename'] as string | undefined;
      const labelFilename = labels === undefined || labels === '' ? undefined : labels;
      if (labelFilename !== undefined && !isPlainFileName(labelFilename)) fail(`${what} label_filename "${labelFilename}" must be a plain file name`);
      return Object.freeze({ name, datatype: datatype as Datatype, dims, reshape, optional: entry['optional'] === true, labelFilename });
    }),
  );
}

function isPlainFileName(name: string): boolean {
  return !name.includes('/') && name !== '.' && name !== '..';
}

function checkDims(dims: readonly number[], what: string, fail: (message: string) => never): readonly number[] {
  for (const dim of dims) if (dim !== -1 && dim < 1) fail(`${what}: dimension ${dim} must be -1 or >= 1`);
  return Object.freeze([...dims]);
}

/** Same element count for fixed dims, and the same number of variable (-1) dims. */
function sameSize(a: readonly number[], b: readonly number[]): boolean {
  const fixed = (dims: readonly number[]) => dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const variable = (dims: readonly number[]) => dims.filter((d) => d === -1).length;
  return fixed(a) === fixed(b) && variable(a) === variable(b);
}

function versionPolicy(policy: JsonObject, fail: (message: string) => never): VersionPolicy {
  switch (policy['policy_choice']) {
    case 'latest': {
      const count = (policy['latest'] as JsonObject)['num_versions'] as number;
      if (count < 1) fail(`version_policy latest needs num_versions >= 1, got ${count}`);
      return { kind: 'latest', count };
    }
    case 'all':
      return { kind: 'all' };
    case 'specific':
      return { kind: 'specific', versions: Object.freeze([...((policy['specific'] as JsonObject)['versions'] as number[])]) };
    default:
      return fail('version_policy names none of latest, all, specific');
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
