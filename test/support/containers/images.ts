// The images the container tests run: built (or found up to date, from the engine's layer cache) by
// containers/build-images.sh once per test run, whichever container test file asks first, so the
// tests always run the gateway as the working tree has it.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inject } from 'vitest';
import { CACHE_DIR, REPO_ROOT, withCacheLock } from '../cache-lock.ts';
import { containerEngine } from './container-engine.ts';
import type { ContainerEngine } from './container-engine.ts';

/** The gateway built from the repository's Dockerfile. */
export const GATEWAY_IMAGE = 'localhost/triton-gateway:local';
/** The CPU Triton of containers/triton-cpu/ (tritonserver 2.51.0 from PyPI's nvidia-pytriton). */
export const TRITON_CPU_IMAGE = 'localhost/triton-cpu:2.51.0';

const BUILT_FOR_RUN = join(CACHE_DIR, 'container-images.run');
const LOG_PREFIX = '[build-images]';

/** The engine, with both images built from the working tree during this test run. */
export async function containerImages(): Promise<ContainerEngine> {
  const engine = await containerEngine();
  const run = inject('testRunId');
  await withCacheLock('container-images', 'container images', (message) => process.stderr.write(`${LOG_PREFIX} ${message}\n`), async () => {
    if ((await readFile(BUILT_FOR_RUN, 'utf8').catch(() => '')) === run) return;
    await buildImages(engine);
    await writeFile(BUILT_FOR_RUN, run);
  });
  return engine;
}

function buildImages(engine: ContainerEngine): Promise<void> {
  const script = join(REPO_ROOT, 'containers', 'build-images.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      cwd: REPO_ROOT,
      env: { ...process.env, CONTAINER_ENGINE: engine.name, GATEWAY_IMAGE, TRITON_CPU_IMAGE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 60) tail.shift();
        if (line.startsWith(LOG_PREFIX)) process.stderr.write(`${line}\n`);
      });
    }
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`containers/build-images.sh failed (exit ${code}):\n${tail.join('\n')}`))));
  });
}
