// .cache/ of the repository, where the test suite keeps what it builds once (Python venvs, container
// images' run stamp), and the lock that lets one process at a time build there.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CACHE_DIR = join(REPO_ROOT, '.cache');

const LOCK_WAIT_MS = 20 * 60_000;
const LOCK_POLL_MS = 250;

/**
 * Runs `work` holding .cache/<name>.lock, one process at a time across test workers; a lock left by a
 * dead process is taken over. `what` names the work in the waiting message.
 */
export async function withCacheLock(name: string, what: string, say: (message: string) => void, work: () => Promise<void>): Promise<void> {
  const lockDir = join(CACHE_DIR, `${name}.lock`);
  await mkdir(CACHE_DIR, { recursive: true });
  const until = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && !isAlive(owner)) {
      say(`removing a stale lock left by process ${owner}`);
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > until) throw new Error(`gave up waiting for ${lockDir} (held by process ${owner}); remove it if no build runs`);
    if (!announced) say(`waiting for process ${Number.isNaN(owner) ? '?' : owner} that is building the ${what}`);
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
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
