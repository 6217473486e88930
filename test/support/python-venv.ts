// Builds a Python venv under .cache/ from a pinned requirements file and reuses it while a stamp matches:
// the sha256 of a layout version and of every requirements file the venv depends on (the top file and
// each file it pulls in with -r/-c, found by reading them, so an included file cannot be forgotten).
// Safe when several processes ask at once (a mkdir lock; a lock left by a dead process is taken over),
// though the usual caller is a vitest globalSetup. Progress streams to stderr with the venv's label.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CACHE_DIR, REPO_ROOT, withCacheLock } from './cache-lock.ts';

const STAMP_NAME = '.provisioned';
/** Lines of a failed command's output kept for its error message. */
const ERROR_TAIL_LINES = 40;
/** pip's options that name another file the requirements depend on (-r includes, -c constraints). */
const INCLUDE_LINE = /^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S+)/;

export type PythonRequirement = { readonly exactly: string } | { readonly atLeast: string };

export interface PythonVenvSpec {
  /** The venv directory, e.g. .cache/triton-venv. */
  readonly dir: string;
  /** The requirements file pip installs with -r; the files it includes are hashed too. */
  readonly requirements: string;
  /** Which Python the venv may be made from (major.minor). */
  readonly pythonVersion: PythonRequirement;
  /** Environment variable that overrides the system Python (default python3). */
  readonly pythonEnvVar: string;
  /** Bump when what the build makes changes in a way the requirements files do not show. */
  readonly layoutVersion: string;
  /** Log prefix without brackets, e.g. 'triton-provision'; also names the lock (.cache/<label>.lock). */
  readonly label: string;
  /** What is being built, for messages: 'Triton test environment' ("building the ...", "... ready"). */
  readonly name: string;
  /** Further paths the build makes (removed before a build, named in the first message). */
  readonly alsoBuilds?: readonly string[];
  /** Paths that must exist for a cached build to count (a venv whose files were deleted is rebuilt). */
  readonly mustExist?: readonly string[];
  /** Said after "pip install -r FILE", e.g. 'about 85 MB of downloads the first time'. */
  readonly pipNote?: string;
  /** Steps after pip, before the stamp is written: a failure leaves the venv unstamped (rebuilt next time). */
  readonly afterInstall?: (venv: PythonVenv, tools: ProvisionTools) => Promise<void>;
}

export interface PythonVenv {
  readonly dir: string;
  readonly binDir: string;
  readonly python: string;
  /** The Python version the venv was made from, major.minor. */
  readonly pythonMinor: string;
  readonly sitePackages: string;
}

export interface RunOptions {
  /** Collect stdout instead of streaming it. */
  readonly quiet?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Logging and command running with the venv's prefix, for afterInstall steps. */
export interface ProvisionTools {
  say(message: string): void;
  run(command: string, args: readonly string[], options?: RunOptions): Promise<string>;
  seconds(since: number): string;
}

/** The venv's paths, without building anything; undefined while it has not been made. */
export function pythonVenv(dir: string): PythonVenv | undefined {
  const lib = join(dir, 'lib');
  if (!existsSync(lib)) return undefined;
  const pythonDir = readdirSync(lib).find((name) => /^python\d+\.\d+$/.test(name));
  if (pythonDir === undefined) return undefined;
  const binDir = join(dir, 'bin');
  return { dir, binDir, python: join(binDir, 'python'), pythonMinor: pythonDir.slice('python'.length), sitePackages: join(lib, pythonDir, 'site-packages') };
}

/** Returns the venv, building it first when it is missing or stale. */
export async function ensurePythonVenv(spec: PythonVenvSpec): Promise<PythonVenv> {
  const tools = provisionTools(spec.label);
  const wanted = await expectedStamp(spec);
  if ((await currentStamp(spec)) !== wanted) {
    await withCacheLock(spec.label, spec.name, tools.say, async () => {
      if ((await currentStamp(spec)) === wanted) return; // another process finished it while we waited
      const started = Date.now();
      const places = [spec.dir, ...(spec.alsoBuilds ?? [])].join(' and ');
      const files = (await requirementFiles(spec.requirements)).map(shownPath).join(' or ');
      tools.say(`building the ${spec.name} in ${places} (first run, or ${files} changed)`);
      await build(spec, tools);
      await writeFile(join(spec.dir, STAMP_NAME), wanted);
      tools.say(`${spec.name} ready in ${tools.seconds(started)}`);
    });
  }
  const venv = pythonVenv(spec.dir);
  if (venv === undefined) throw new Error(`${spec.dir} has no lib/pythonX.Y after provisioning`);
  return venv;
}

async function build(spec: PythonVenvSpec, tools: ProvisionTools): Promise<void> {
  for (const path of [spec.dir, ...(spec.alsoBuilds ?? [])]) await rm(path, { recursive: true, force: true });
  const systemPython = process.env[spec.pythonEnvVar] ?? 'python3';
  const version = (await tools.run(systemPython, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { quiet: true })).trim();
  const problem = versionProblem(version, spec.pythonVersion);
  if (problem !== undefined) {
    throw new Error(`${systemPython} is Python ${version}; the ${spec.name} needs Python ${problem} (set ${spec.pythonEnvVar})`);
  }

  const step = Date.now();
  tools.say(`creating the venv with ${systemPython} (${version})`);
  await tools.run(systemPython, ['-m', 'venv', spec.dir]);
  tools.say(`pip install -r ${spec.requirements}${spec.pipNote === undefined ? '' : ` (${spec.pipNote})`}`);
  const python = join(spec.dir, 'bin', 'python');
  // pip reads the included files itself, resolving their paths against the including file's directory.
  await tools.run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', spec.requirements]);
  tools.say(`pip done in ${tools.seconds(step)}`);

  const venv = pythonVenv(spec.dir);
  if (venv === undefined) throw new Error(`${spec.dir} has no lib/pythonX.Y after python -m venv`);
  await spec.afterInstall?.(venv, tools);
}

/** Undefined when `version` (major.minor) satisfies the requirement, else what is needed. */
function versionProblem(version: string, wanted: PythonRequirement): string | undefined {
  if ('exactly' in wanted) return version === wanted.exactly ? undefined : wanted.exactly;
  return compareVersions(version, wanted.atLeast) >= 0 ? undefined : `${wanted.atLeast} or newer`;
}

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The requirements file and every file it includes (-r) or is constrained by (-c), transitively. */
export async function requirementFiles(top: string): Promise<readonly string[]> {
  const found: string[] = [];
  const visit = async (file: string): Promise<void> => {
    const path = resolve(file);
    if (found.includes(path)) return;
    found.push(path);
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`requirements file ${path} (included from ${shownPath(found[0] ?? path)}): ${error.message}`);
    });
    for (const line of text.split('\n')) {
      const include = INCLUDE_LINE.exec(line.trim());
      if (include?.[1] !== undefined) await visit(resolve(dirname(path), include[1]));
    }
  };
  await visit(top);
  return found;
}

async function expectedStamp(spec: PythonVenvSpec): Promise<string> {
  const hash = createHash('sha256').update(`layout ${spec.layoutVersion}\n`);
  for (const file of await requirementFiles(spec.requirements)) {
    hash.update(`file ${shownPath(file)}\n`).update(await readFile(file));
  }
  return hash.digest('hex');
}

async function currentStamp(spec: PythonVenvSpec): Promise<string | undefined> {
  if (!existsSync(join(spec.dir, 'bin', 'python'))) return undefined;
  if ((spec.mustExist ?? []).some((path) => !existsSync(path))) return undefined;
  return readFile(join(spec.dir, STAMP_NAME), 'utf8').catch(() => undefined);
}

/** Repository files by their path in the repository (so the stamp does not depend on the checkout's location). */
function shownPath(file: string): string {
  const inRepository = relative(REPO_ROOT, file);
  return inRepository.startsWith('..') ? file : inRepository;
}

function provisionTools(label: string): ProvisionTools {
  const prefix = `[${label}]`;
  return {
    say: (message) => process.stderr.write(`${prefix} ${message}\n`),
    run: (command, args, options = {}) => runCommand(prefix, command, args, options),
    seconds: (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`,
  };
}

/** Runs a command, streaming its lines to stderr with a prefix (or collecting stdout when quiet). */
function runCommand(prefix: string, command: string, args: readonly string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const collected: string[] = [];
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (options.quiet === true && stream === child.stdout) collected.push(line);
        else if (options.quiet !== true) process.stderr.write(`${prefix}   ${line}\n`);
        tail.push(line);
        if (tail.length > ERROR_TAIL_LINES) tail.shift();
      });
    }
    child.once('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(collected.join('\n'));
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}
