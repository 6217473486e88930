// Provisions the real Triton Inference Server the integration tests start: a Python venv with
// nvidia-pytriton (whose wheel carries tritonserver and Triton's Python backend) and onnxruntime, plus a
// workspace copy of the tritonserver tree with the Python backend stub put where Triton looks for it.
// Built once under .cache/ and reused while the stamp matches requirements.txt and the files it includes
// (../../../containers/triton-cpu/requirements.txt); the venv, stamp and lock are python-venv.ts's, the
// Triton-specific steps are here.
import { chmod, cp, mkdir, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR, REPO_ROOT } from '../cache-lock.ts';
import { ensurePythonVenv } from '../python-venv.ts';
import type { ProvisionTools, PythonVenv } from '../python-venv.ts';

export { REPO_ROOT };

const VENV_DIR = join(CACHE_DIR, 'triton-venv');
const SERVER_DIR = join(CACHE_DIR, 'triton-server');
const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
/** The Python the venv is made from; the backend stub used is the one built for this minor version. */
const PYTHON_MINOR = '3.11';
/** Bump when what provisionTriton() builds changes in a way the requirements files do not show. */
const LAYOUT_VERSION = '1';

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
  await ensurePythonVenv({
    dir: VENV_DIR,
    requirements: REQUIREMENTS,
    pythonVersion: { exactly: PYTHON_MINOR },
    pythonEnvVar: 'TRITON_VENV_PYTHON',
    layoutVersion: LAYOUT_VERSION,
    label: 'triton-provision',
    name: 'Triton test environment',
    alsoBuilds: [SERVER_DIR],
    mustExist: [tritonInstallation().tritonserver],
    pipNote: 'about 85 MB of downloads the first time',
    afterInstall: installTritonServer,
  });
  return tritonInstallation();
}

/** The Triton-specific steps after pip: no bytecode, the tritonserver workspace with its stub, an ldd check. */
async function installTritonServer(_venv: PythonVenv, { say, run, seconds }: ProvisionTools): Promise<void> {
  // The Python backend stub writes __pycache__ into a model's version directory when it imports model.py;
  // Triton's poll mode sees the new files and reloads the model once. No bytecode, no spurious reload.
  await writeFile(join(sitePackages(), 'zz_no_pyc.pth'), 'import sys; sys.dont_write_bytecode = True\n');

  const step = Date.now();
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
