// A model's config.pbtxt, read through the project's proto/model_config.proto (protobufjs reflection over
// the text-format parse), -> the typed view the embedded backend serves from: the config document Triton
// would answer for it (with the defaults Triton's normalisation fills in: name, platform, backend, version
// policy, model file name, instance group), the metadata Triton reports for it, and the versions its
// policy loads. Refuses what the .proto cannot (ranges, names, dims) and what ONNX Runtime in-process
// cannot serve the way Triton would, with a reason that ends up in the repository index.
import { datatypeFromConfig, descriptorOf } from '../../tensors/datatype.ts';
import type { Datatype } from '../../tensors/datatype.ts';
import type { ModelConfigDocument, ModelMetadata, TensorMetadata } from '../backend.ts';
import { modelConfigDocument, modelConfigType } from '../model-config-document.ts';
import { parsePbtxt, pbtxtToObject } from './pbtxt.ts';

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
  let document: ModelConfigDocument;
  try {
    const parsed = parsePbtxt(text);
    // Checked on the parse: batch_input and batch_output are not in the project's .proto.
    const unsupported = UNSUPPORTED_SECTIONS.find((section) => parsed.fields.has(section));
    if (unsupported !== undefined) throw new ModelConfigError(`${unsupported} is not supported by the embedded backend`);
    const config = pbtxtToObject(parsed, modelConfigType());
    completeLikeTriton(config, modelName);
    document = modelConfigDocument(config);
  } catch (error) {
    if (error instanceof ModelConfigError) throw error;
    throw new ModelConfigError(`invalid config.pbtxt: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const fail = (message: string): never => {
    throw new ModelConfigError(message);
  };
  if (document['name'] !== modelName) fail(`config name "${String(document['name'])}" does not match the model directory "${modelName}"`);
  const notServed = (field: string) => fail(`${field} "${String(document[field])}" is not served by the embedded backend (only ${field === 'backend' ? ONNX_BACKEND : ONNX_PLATFORM})`);
  // A backend of its own is named first: its platform is then '' (Triton leaves it unset).
  if (document['backend'] !== '' && document['backend'] !== ONNX_BACKEND) notServed('backend');
  if (document['platform'] !== ONNX_PLATFORM) notServed('platform');
  if (document['backend'] !== ONNX_BACKEND) notServed('backend');
  if ((document['model_transaction_policy'] as DocumentEntry | undefined)?.['decoupled'] === true) {
    fail('model_transaction_policy decoupled is not supported by the embedded backend (one response per request)');
  }
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
    versionPolicy: versionPolicy(document['version_policy'] as DocumentEntry, fail),
    modelFilename,
    document,
  });
}

/** An entry of the config document (a message inside it), every field present with its proto default. */
type DocumentEntry = Readonly<Record<string, unknown>>;
/** The config as written, typed by the .proto but sparse (what config.pbtxt leaves out is absent). */
type WrittenConfig = Record<string, unknown>;

/**
 * What Triton's config normalisation adds to a config as written before it answers ModelConfig (seen on
 * Triton 2.51; deterministic for an ONNX model on a CPU-only server, which is what the embedded backend is).
 */
function completeLikeTriton(config: WrittenConfig, modelName: string): void {
  const blank = (value: unknown): boolean => (value ?? '') === '';
  if (blank(config['name'])) config['name'] = modelName;
  const backend = config['backend'] ?? '';
  const platform = config['platform'] ?? '';
  if (platform === '' && (backend === '' || backend === ONNX_BACKEND)) config['platform'] = ONNX_PLATFORM;
  if (backend === '' && (platform === '' || platform === ONNX_PLATFORM)) config['backend'] = ONNX_BACKEND;
  if (blank(config['default_model_filename'])) config['default_model_filename'] = DEFAULT_MODEL_FILENAME;
  config['version_policy'] ??= { latest: { num_versions: DEFAULT_LATEST_VERSIONS } };
  const batching = config['dynamic_batching'] as WrittenConfig | undefined;
  const maxBatchSize = (config['max_batch_size'] ?? 0) as number;
  if (batching !== undefined && ((batching['preferred_batch_size'] ?? []) as number[]).length === 0 && maxBatchSize > 0) {
    batching['preferred_batch_size'] = [maxBatchSize];
  }
  const groups = (config['instance_group'] ?? []) as WrittenConfig[];
  config['instance_group'] = (groups.length === 0 ? [{}] : groups).map((group, i) => ({
    ...group,
    name: blank(group['name']) ? `${modelName}_${i}` : group['name'],
    count: (group['count'] ?? 0) === 0 ? 1 : group['count'],
    kind: (group['kind'] ?? 'KIND_AUTO') === 'KIND_AUTO' ? 'KIND_CPU' : group['kind'],
  }));
}

function tensors(list: unknown, kind: 'input' | 'output', fail: (message: string) => never): readonly TensorConfig[] {
  const entries = list as DocumentEntry[];
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
      if (descriptorOf(datatype).ortType === undefined) fail(`${what}: ${configType} tensors are not supported by onnxruntime-node`);
      if (entry['is_shape_tensor'] === true) fail(`${what}: shape tensors are not supported by the embedded backend`);
      const dims = checkDims(entry['dims'] as number[], `${what} dims`, fail);
      if (dims.length === 0) fail(`${what} must specify dims`);
      const reshapeEntry = entry['reshape'] as DocumentEntry | undefined;
      const reshape = reshapeEntry === undefined ? undefined : checkDims(reshapeEntry['shape'] as number[], `${what} reshape`, fail);
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

function versionPolicy(policy: DocumentEntry, fail: (message: string) => never): VersionPolicy {
  const latest = policy['latest'] as DocumentEntry | undefined;
  const specific = policy['specific'] as DocumentEntry | undefined;
  if (latest !== undefined) {
    const count = latest['num_versions'] as number;
    if (count < 1) fail(`version_policy latest needs num_versions >= 1, got ${count}`);
    return { kind: 'latest', count };
  }
  if (policy['all'] !== undefined) return { kind: 'all' };
  if (specific !== undefined) return { kind: 'specific', versions: specific['versions'] as readonly number[] };
  return fail('version_policy names none of latest, all, specific');
}

/**
 * Which of the version directories on disk the policy asks to load, as Triton decides it, highest first:
 * latest(n) = the n highest-numbered directories (whether or not they will load), all = every one,
 * specific = the listed ones that exist.
 */
export function selectVersions(policy: VersionPolicy, onDisk: Iterable<number>): number[] {
  const available = [...new Set(onDisk)].sort((a, b) => b - a);
  switch (policy.kind) {
    case 'latest':
      return available.slice(0, policy.count);
    case 'all':
      return available;
    case 'specific': {
      const wanted = new Set(policy.versions);
      return available.filter((version) => wanted.has(version));
    }
    default: {
      const exhausted: never = policy;
      throw new Error(`unknown version policy ${JSON.stringify(exhausted)}`);
    }
  }
}

/**
 * ModelMetadata as Triton reports it for an ONNX model: protocol datatype names (BYTES for TYPE_STRING),
 * the config's dims (not the reshape), with a leading -1 batch dimension when max_batch_size > 0, and
 * the model's READY versions.
 */
export function modelMetadata(config: EmbeddedModelConfig, readyVersions: readonly number[]): ModelMetadata {
  const tensor = (entry: TensorConfig): TensorMetadata => ({
    name: entry.name,
    datatype: entry.datatype,
    shape: config.maxBatchSize > 0 ? [-1, ...entry.dims] : [...entry.dims],
  });
  return {
    name: config.name,
    versions: readyVersions.map(String),
    platform: ONNX_PLATFORM,
    inputs: config.inputs.map(tensor),
    outputs: config.outputs.map(tensor),
  };
}
