// The Python peer of `npm run bench` (fastapi_server.py: FastAPI + onnxruntime with a textbook
// micro-batcher) as a child process: provisionFastApiPeer() builds its venv once under .cache/ from the
// pinned requirements.txt beside it (rebuilt when that file changes, through the repository's
// test/support/python-venv.ts, the helper the test Triton's venv is built with), and startFastApiPeer()
// runs it and resolves once it answers GET /v2/health/ready.
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, REPO_ROOT } from '../../test/support/cache-lock.ts';
import { ensurePythonVenv } from '../../test/support/python-venv.ts';
import { spawnPeer, waitForOutput } from './peer-process.ts';
import type { PeerServer } from './peer-process.ts';

export interface FastApiPeerOptions {
  /** The venv's python (what provisionFastApiPeer() resolves to). */
  readonly python: string;
  /** 0 lets the server bind a free port (the port it got is read from its output). */
  readonly port: number;
  /** The digits model.onnx it serves, e.g. DIGITS_MODEL_PATH. */
  readonly modelPath: string;
}

export const FASTAPI_VENV_DIR = join(CACHE_DIR, 'bench-fastapi-venv');
export const DIGITS_MODEL_PATH = join(REPO_ROOT, 'model_repository', 'digits', '2', 'model.onnx');
const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
const SERVER_SCRIPT = fileURLToPath(new URL('./fastapi_server.py', import.meta.url));
const LABEL = 'bench-fastapi';
/** Bump when what provisionFastApiPeer() builds changes in a way requirements.txt does not show. */
const LAYOUT_VERSION = '1';
/** Importing onnxruntime, numpy and FastAPI takes seconds on a busy machine. */
const LISTEN_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 5000;
const LISTENING_LINE = /peer listening on (\d+)/;

/** The venv's python, for startFastApiPeer(); builds the venv first when it is missing or stale (progress on stderr). */
export async function provisionFastApiPeer(): Promise<string> {
  const venv = await ensurePythonVenv({
    dir: FASTAPI_VENV_DIR,
    requirements: REQUIREMENTS,
    // The pins were checked with Python 3.11 (onnxruntime and numpy ship wheels per minor version).
    pythonVersion: { atLeast: '3.11' },
    pythonEnvVar: 'BENCH_FASTAPI_PYTHON',
    layoutVersion: LAYOUT_VERSION,
    label: LABEL,
    name: 'FastAPI peer environment',
    pipNote: 'about 55 MB of downloads the first time',
  });
  return venv.python;
}

/** Starts fastapi_server.py and resolves when it listens and answers its readiness endpoint. */
export async function startFastApiPeer(options: FastApiPeerOptions): Promise<PeerServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
  // A PYTHONPATH or PYTHONHOME meant for something else would mix other packages into the venv's.
  delete env['PYTHONPATH'];
  delete env['PYTHONHOME'];
  const args = [SERVER_SCRIPT, '--port', String(options.port), '--model', options.modelPath, '--exit-with-parent'];
  const peer = spawnPeer(LABEL, options.python, args, { env, cwd: REPO_ROOT });
  try {
    const [, port] = await waitForOutput(`the FastAPI peer (${options.python} ${args.join(' ')})`, peer, LISTENING_LINE, LISTEN_TIMEOUT_MS);
    const url = `http://127.0.0.1:${port}`;
    const status = await readinessStatus(`${url}/v2/health/ready`);
    if (status !== 200) throw new Error(`the FastAPI peer answered GET /v2/health/ready with ${status}; its output:\n${peer.output()}`);
    return { url, pid: peer.pid, stop: peer.stop };
  } catch (error) {
    await peer.stop();
    throw error;
  }
}

/**
 * The status of one GET on a connection closed after it (no keep-alive socket left open in the
 * driver's pool, which would hold the peer's graceful shutdown).
 */
function readinessStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const get = request(url, { method: 'GET', agent: false, timeout: READY_TIMEOUT_MS }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    get.once('timeout', () => get.destroy(new Error(`GET ${url}: no answer within ${READY_TIMEOUT_MS} ms`)));
    get.once('error', reject);
    get.end();
  });
}
