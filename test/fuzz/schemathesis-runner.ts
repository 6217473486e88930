// schemathesis (PyPI) in a cached venv, .cache/schemathesis-venv, built from the pinned requirements.txt
// next to this file, and one bounded, seeded run of it against a running gateway's /openapi.json.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from '../support/cache-lock.ts';
import { ensurePythonVenv } from '../support/python-venv.ts';

const VENV_DIR = join(CACHE_DIR, 'schemathesis-venv');
const SCHEMATHESIS = join(VENV_DIR, 'bin', 'schemathesis');
const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
const CONFIG = fileURLToPath(new URL('./schemathesis.toml', import.meta.url));
/** Bump when what provisionSchemathesis() builds changes in a way requirements.txt does not show. */
const LAYOUT_VERSION = '1';
/** Lines of a failed run kept for the test's message (the failures section and the summary). */
const REPORT_LINES = 400;
const REPORT_LINE_CHARS = 400;

export interface SchemathesisRun {
  /** schemathesis's exit code: 0 when every check passed for every generated case. */
  readonly code: number | null;
  readonly output: string;
}

export interface SchemathesisOptions {
  /** Test cases per operation and phase (--max-examples). */
  readonly maxExamples: number;
  /** Hypothesis seed (--seed): the same seed against the same gateway generates the same cases. */
  readonly seed: number;
  /** The run is killed after this long (a hung gateway must not hang the suite). */
  readonly timeoutMs: number;
}

/** Builds the venv when it is missing or stale (a hash of requirements.txt otherwise). */
export async function provisionSchemathesis(): Promise<void> {
  await ensurePythonVenv({
    dir: VENV_DIR,
    requirements: REQUIREMENTS,
    pythonVersion: { atLeast: '3.11' },
    pythonEnvVar: 'SCHEMATHESIS_PYTHON',
    layoutVersion: LAYOUT_VERSION,
    label: 'schemathesis-provision',
    name: 'schemathesis environment',
    mustExist: [SCHEMATHESIS],
    pipNote: 'about 20 MB of downloads the first time',
  });
}

/**
 * `schemathesis run BASE/openapi.json --checks all` with the project's settings (schemathesis.toml). One
 * worker: Python 3.11's ast.parse is not thread-safe, and hypothesis calls it while describing
 * strategies ("AST constructor recursion depth mismatch" with --workers 2). Runs in a temporary
 * directory, so nothing (reports, hypothesis's database) lands in the checkout.
 */
export async function runSchemathesis(baseUrl: string, options: SchemathesisOptions): Promise<SchemathesisRun> {
  const args = [
    '--config-file', CONFIG,
    'run', `${baseUrl}/openapi.json`,
    '--checks', 'all',
    '--max-examples', String(options.maxExamples),
    '--seed', String(options.seed),
    '--workers', '1',
    '--generation-database', 'none',
    '--request-timeout', '10',
    '--no-color',
  ];
  const cwd = await mkdtemp(join(tmpdir(), 'schemathesis-'));
  try {
    return await new Promise<SchemathesisRun>((resolve, reject) => {
      const child = spawn(SCHEMATHESIS, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`${SCHEMATHESIS}: ${error.message} (is the venv provisioned?)`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, output: signal === null ? output : `${output}\n[killed by ${signal} after ${options.timeoutMs} ms]` });
      });
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/** What to show for a failed run: from the failures (or errors) section on, long lines cut. */
export function failureReport(run: SchemathesisRun): string {
  const lines = run.output.split('\n');
  const start = lines.findIndex((line) => /^=+ (ERRORS|FAILURES) =+$/.test(line));
  return lines
    .slice(start === -1 ? 0 : start)
    .slice(-REPORT_LINES)
    .map((line) => (line.length > REPORT_LINE_CHARS ? `${line.slice(0, REPORT_LINE_CHARS)}...` : line))
    .join('\n');
}
