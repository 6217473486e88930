// Generates, in a temporary directory, a "python backend twin" of model_repository/ that the pip-installed
// tritonserver (no ONNX Runtime backend) can serve: every model keeps its name, versions, inputs, outputs,
// dims, reshape, max_batch_size, version_policy and dynamic_batching; only the backend changes. Each
// version directory gets containers/triton-cpu/onnx_model.py as model.py next to a copy of its model.onnx. The gateway cannot
// tell the difference: same gRPC protocol, names, shapes, versions and readiness behaviour.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topLevelFields } from './pbtxt-fields.ts';
import { REPO_ROOT } from './provision.ts';

export const MODEL_REPOSITORY = join(REPO_ROOT, 'model_repository');
/** The model.py of every twin version (also the CPU Triton image's Python-based "onnxruntime" backend). */
export const TWIN_MODEL_PY = fileURLToPath(new URL('../../../containers/triton-cpu/onnx_model.py', import.meta.url));
/** Settings of the ONNX Runtime backend (or the serving hardware) that a Python-backend twin must not carry. */
const DROPPED_FIELDS = new Set(['platform', 'backend', 'default_model_filename', 'instance_group', 'optimization']);
const TWIN_INSTANCE_GROUP = 'instance_group [ { kind: KIND_CPU, count: 1 } ]';

/** Per-version behaviour, written as twin.json in the version directory and read by onnx_model.py. */
export interface TwinBehaviour {
  /** initialize() raises: the version fails to load (start Triton with --exit-on-error=false). */
  readonly failLoad?: boolean;
  readonly loadDelayMs?: number;
  /** Every execute() (one batch of requests) sleeps this long first. */
  readonly inferDelayMs?: number;
  /**
   * A request with this value anywhere in a numeric input fails alone: Triton answers it with the model's
   * error (gRPC INTERNAL), the other requests of the same execute() are served.
   */
  readonly failOnValue?: number;
}

export interface TwinRepositoryOptions {
  /** Default: <repo>/model_repository. */
  readonly source?: string;
  /** Models to include, with the version numbers to copy or 'all'; default every model, every version. */
  readonly models?: Readonly<Record<string, readonly number[] | 'all'>>;
  /** Replaces a model's version_policy, e.g. `{ digits: '{ all: {} }' }` to load both digits versions. */
  readonly versionPolicy?: Readonly<Record<string, string>>;
  /** Behaviour per "model/version", e.g. `{ 'digits/2': { inferDelayMs: 300 } }`. */
  readonly behaviour?: Readonly<Record<string, TwinBehaviour>>;
}

export interface TwinRepository {
  /** Pass as --model-repository. */
  readonly path: string;
  /**
   * Adds (or replaces) a version, written aside and renamed into place so a polling Triton never sees
   * half a version. Its model.onnx comes from `fromVersion` of the source repository (default: `version`).
   */
  addVersion(model: string, version: number, options?: { readonly fromVersion?: number; readonly behaviour?: TwinBehaviour }): Promise<void>;
  /** Removes a version directory at once (a polling Triton unloads it). */
  removeVersion(model: string, version: number): Promise<void>;
  /** Deletes the whole temporary directory; safe to call twice. */
  remove(): Promise<void>;
}

export async function createTwinRepository(options: TwinRepositoryOptions = {}): Promise<TwinRepository> {
  const source = options.source ?? MODEL_REPOSITORY;
  const root = await mkdtemp(join(tmpdir(), 'triton-twin-'));
  const path = join(root, 'repository');
  const staging = join(root, 'staging');
  await mkdir(path);
  await mkdir(staging);

  const models = options.models ?? Object.fromEntries((await modelNames(source)).map((name) => [name, 'all' as const]));
  for (const [model, selection] of Object.entries(models)) {
    const config = await readFile(join(source, model, 'config.pbtxt'), 'utf8');
    await mkdir(join(path, model));
    await writeFile(join(path, model, 'config.pbtxt'), twinConfig(model, config, options.versionPolicy?.[model]));
    const versions = selection === 'all' ? await versionNumbers(join(source, model)) : selection;
    for (const version of versions) {
      await writeVersion(source, join(path, model, String(version)), model, version, options.behaviour?.[`${model}/${version}`]);
    }
  }

  let counter = 0;
  return {
    path,
    async addVersion(model, version, added = {}) {
      const aside = join(staging, `${model}-${version}-${counter++}`);
      await writeVersion(source, aside, model, added.fromVersion ?? version, added.behaviour);
      const target = join(path, model, String(version));
      await rm(target, { recursive: true, force: true });
      await rename(aside, target);
    },
    async removeVersion(model, version) {
      await rm(join(path, model, String(version)), { recursive: true, force: true });
    },
    async remove() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The config of the twin: the original text with the backend swapped and ONNX-only settings dropped. */
export function twinConfig(model: string, original: string, versionPolicy?: string): string {
  const fields = topLevelFields(original);
  let text = original;
  for (const field of [...fields].reverse()) {
    const dropped = DROPPED_FIELDS.has(field.name) || (versionPolicy !== undefined && field.name === 'version_policy');
    if (dropped) text = text.slice(0, field.start) + text.slice(field.end);
  }
  const added = [`backend: "python"`, TWIN_INSTANCE_GROUP];
  if (versionPolicy !== undefined) added.push(`version_policy: ${versionPolicy}`);
  return [
    `# Generated by test/support/real-triton/twin-repository.ts: the python backend twin of model_repository/${model}.`,
    text.trimEnd(),
    '# Added for the twin:',
    ...added,
    '',
  ].join('\n');
}

async function writeVersion(source: string, directory: string, model: string, version: number, behaviour: TwinBehaviour | undefined): Promise<void> {
  await mkdir(directory);
  await copyFile(join(source, model, String(version), 'model.onnx'), join(directory, 'model.onnx'));
  await copyFile(TWIN_MODEL_PY, join(directory, 'model.py'));
  if (behaviour !== undefined) {
    const json = {
      fail_load: behaviour.failLoad ?? false,
      load_delay_ms: behaviour.loadDelayMs ?? 0,
      infer_delay_ms: behaviour.inferDelayMs ?? 0,
      ...(behaviour.failOnValue === undefined ? {} : { fail_on_value: behaviour.failOnValue }),
    };
    await writeFile(join(directory, 'twin.json'), JSON.stringify(json));
  }
}

/** Triton takes every subdirectory of a repository for a model. */
async function modelNames(source: string): Promise<string[]> {
  const entries = await readdir(source, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory() && entry.name !== '__pycache__' && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
}

async function versionNumbers(modelDir: string): Promise<number[]> {
  const entries = await readdir(modelDir);
  const versions: number[] = [];
  for (const entry of entries) {
    if (/^\d+$/.test(entry) && (await stat(join(modelDir, entry))).isDirectory()) versions.push(Number(entry));
  }
  return versions.sort((a, b) => a - b);
}
