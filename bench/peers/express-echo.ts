// The express echo peer of `npm run bench` (express-echo-server.ts) as a child process: what a bare
// express 5 JSON round trip of the same infer request costs, measured in its own process (/proc/<pid>)
// so its CPU and RSS are not mixed with the benchmark driver's autocannon.
import type { Serializable } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../test/support/cache-lock.ts';
import { spawnPeer, waitForMessage } from './peer-process.ts';
import type { PeerServer } from './peer-process.ts';
import type { EchoListening } from './express-echo-server.ts';

const SERVER_ENTRY = fileURLToPath(new URL('./express-echo-server.ts', import.meta.url));
const LISTEN_TIMEOUT_MS = 15_000;

/** Starts the echo server on a free port; resolves once it listens. */
export async function startExpressEcho(): Promise<PeerServer> {
  // process.execPath: the Node the driver runs on (24, which runs the .ts entry by type stripping).
  const peer = spawnPeer('bench-express-echo', process.execPath, [SERVER_ENTRY], { cwd: REPO_ROOT, ipc: true });
  try {
    const port = await waitForMessage('the express echo', peer, listeningPort, LISTEN_TIMEOUT_MS);
    return { url: `http://127.0.0.1:${port}`, pid: peer.pid, stop: peer.stop };
  } catch (error) {
    await peer.stop();
    throw error;
  }
}

function listeningPort(message: Serializable): number | undefined {
  if (typeof message !== 'object' || message === null || !('type' in message)) return undefined;
  const listening = message as Partial<EchoListening>;
  return listening.type === 'listening' && typeof listening.port === 'number' ? listening.port : undefined;
}
