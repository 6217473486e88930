// Provisions the real Triton Inference Server the integration tests start: a Python venv with
// nvidia-pytriton (whose wheel carries tritonserver and Triton's Python backend) and onnxruntime, plus a
// workspace copy of the tritonserver tree with the Python backend stub put where Triton looks for it.
// Built once under .cache/ and reused while the stamp matches requirements.txt; safe when several
// processes ask at once (a mkdir lock), though the usual caller is the vitest globalSetup.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE_DIR = join(REPO_ROOT, '.cache');
const VENV_DIR = join(CACHE_DIR, 'triton-venv');
const SERVER_DIR = join(CACHE_DIR, 'triton-server');
const LOCK_DIR = join(CACHE_DIR, 'triton-provision.lock');
const STAMP_FILE = join(VENV_DIR, '.provisioned');
const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
/** The Python the venv is made from; the backend stub used is the one built for this minor version. */
const PYTHON_MINOR = '3.11';
/** Bump when what provisionTriton() builds changes in a way requirements.txt does not show. */
const LAYOUT_VERSION = '1';
const LOCK_WAIT_MS = 20 * 60_000;
const LOCK_POLL_MS = 250;
const LOG_PREFIX = '[triton-provision]';

export interface TritonInstallation {
  /** The venv's python (numpy, onnxruntime): also runs model_repository/reference_infer.py. */
  readonly python: string;
  /** The venv's bin directory: must come first on PATH for the backend stub to find the venv's packages. */
  readonly binDir: string;
  /** Shared libraries tritonserver needs (LD_LIBRARY_PATH). */
  readonly libraryDir: string;
  readonly tritonserver: string;
  readonly backendsDir: string;
  readonly cachesDir: string;
}

export function tritonInstallation(): TritonInstallation {
  const binDir = join(VENV_DIR, 'bin');
  return {
    python: join(binDir, 'python'),
    binDir,
    libraryDir: join(sitePackages(), 'nvidia_pytriton.libs'),
    tritonserver: join(SERVER_DIR, 'bin', 'tritonserver'),
    backendsDir: join(SERVER_DIR, 'backends'),
    cachesDir: join(SERVER_DIR, 'caches'),
  };
}

/** Returns the installation, building it first when it is missing or stale. */
export async function provisionTriton(): Promise<TritonInstallation> {
  const wanted = await expectedStamp();
  if ((await currentStamp()) === wanted) return tritonInstallation();
  await withLock(async () => {
    if ((await currentStamp()) === wanted) return; // another process finished it while we waited
    const started = Date.now();
    say(`building the Triton test environment in ${VENV_DIR} and ${SERVER_DIR} (first run, or requirements.txt changed)`);
    await build();
    await writeFile(STAMP_FILE, wanted);
    say(`Triton test environment ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  return tritonInstallation();
}

async function build(): Promise<void> {
  await rm(VENV_DIR, { recursive: true, force: true });
  await rm(SERVER_DIR, { recursive: true, force: true });
  const systemPython = process.env['TRITON_VENV_PYTHON'] ?? 'python3';
  const version = (await run(systemPython, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { quiet: true })).trim();
  if (version !== PYTHON_MINOR) {
    throw new Error(`${systemPython} is Python ${version}; the Triton test environment needs Python ${PYTHON_MINOR} (set TRITON_VENV_PYTHON)`);
  }

  let step = Date.now();
  say(`creating the venv with ${systemPython} (${version})`);
  await run(systemPython, ['-m', 'venv', VENV_DIR]);
  say(`pip install -r ${REQUIREMENTS} (about 85 MB of downloads the first time)`);
  const python = join(VENV_DIR, 'bin', 'python');
  await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', REQUIREMENTS]);
  say(`pip done in ${seconds(step)}`);

  // The Python backend stub writes __pycache__ into a model's version directory when it imports model.py;
  // Triton's poll mode sees the new files and reloads the model once. No bytecode, no spurious reload.
  await writeFile(join(sitePackages(), 'zz_no_pyc.pth'), 'import sys; sys.dont_write_bytecode = True\n');

  step = Date.now();
  const source = join(sitePackages(), 'pytriton', 'tritonserver');
  const stubs = join(source, 'python_backend_stubs');
  await cp(source, SERVER_DIR, { recursive: true, filter: (path) => path !== stubs && !path.startsWith(stubs + sep) });
  const stub = join(SERVER_DIR, 'backends', 'python', 'triton_python_backend_stub');
  await cp(join(stubs, PYTHON_MINOR, 'triton_python_backend_stub'), stub);
  await chmod(stub, 0o755);
  await mkdir(join(SERVER_DIR, 'caches'), { recursive: true });
  say(`copied the tritonserver tree and the Python ${PYTHON_MINOR} backend stub in ${seconds(step)}`);

  const installation = tritonInstallation();
  const env = { ...process.env, LD_LIBRARY_PATH: installation.libraryDir };
  for (const binary of [installation.tritonserver, stub]) {
    const missing = (await run('ldd', [binary], { quiet: true, env })).split('\n').filter((line) => line.includes('not found'));
    if (missing.length > 0) {
      throw new Error(`${binary} misses shared libraries (Debian: apt-get install libpython${PYTHON_MINOR} for libpython):\n${missing.join('\n')}`);
    }
  }
}

function sitePackages(): string {
  return join(VENV_DIR, 'lib', `python${PYTHON_MINOR}`, 'site-packages');
}

async function expectedStamp(): Promise<string> {
  const requirements = await readFile(REQUIREMENTS);
  return createHash('sha256').update(`layout ${LAYOUT_VERSION}\n`).update(requirements).digest('hex');
}

async function currentStamp(): Promise<string | undefined> {
  if (!existsSync(join(SERVER_DIR, 'bin', 'tritonserver'))) return undefined;
  return readFile(STAMP_FILE, 'utf8').catch(() => undefined);
}

/** One builder at a time across processes; a lock left by a dead process is taken over. */
async function withLock(work: () => Promise<void>): Promise<void> {
  await mkdir(CACHE_DIR, { recursive: true });
  const until = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(LOCK_DIR, 'pid'), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && !isAlive(owner)) {
      say(`removing a stale lock left by process ${owner}`);
      await rm(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > until) throw new Error(`gave up waiting for ${LOCK_DIR} (held by process ${owner}); remove it if no build runs`);
    if (!announced) say(`waiting for process ${Number.isNaN(owner) ? '?' : owner} that is building the Triton test environment`);
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    await work();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface RunOptions {
  /** Collect stdout instead of streaming it. */
  readonly quiet?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a command, streaming its lines to stderr with a prefix (or collecting stdout when quiet). */
function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const collected: string[] = [];
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (options.quiet === true && stream === child.stdout) collected.push(line);
        else if (options.quiet !== true) process.stderr.write(`${LOG_PREFIX}   ${line}\n`);
        tail.push(line);
        if (tail.length > 40) tail.shift();
      });
    }
    child.once('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(collected.join('\n'));
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

function say(message: string): void {
  process.stderr.write(`${LOG_PREFIX} ${message}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
