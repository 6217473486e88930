// A peer server of `npm run bench` (the FastAPI peer, the express echo) as a child process of the
// benchmark driver: in its own process so its CPU time and RSS can be read from /proc/<pid> apart from
// the driver's (autocannon and the gRPC load run inside the driver). Keeps the tail of its output for
// error messages, waits for a line or an IPC message that says it listens, and stops it with SIGTERM,
// then SIGKILL when it has not exited within STOP_GRACE_MS; stop() is safe to call twice.
import { spawn } from 'node:child_process';
import type { ChildProcess, Serializable } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the benchmark gets back for each peer it starts. */
export interface PeerServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The server's process id, for /proc/<pid>/stat and /proc/<pid>/status. */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PeerSpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Opens an IPC channel (Node children only): the child can report its port with process.send(). */
  readonly ipc?: boolean;
}

/** A spawned peer, before it is known to listen. */
export interface PeerChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last OUTPUT_TAIL_CHARS of its stdout and stderr together. */
  output(): string;
  /** Undefined while it runs, else how it ended ('exit code 1', 'signal SIGTERM'). */
  ended(): string | undefined;
  stop(): Promise<void>;
}

/** Enough of a failing server's output to say why, without growing for a long benchmark. */
const OUTPUT_TAIL_CHARS = 16_384;
const STOP_GRACE_MS = 5000;

export function spawnPeer(label: string, command: string, args: readonly string[], options: PeerSpawnOptions = {}): PeerChild {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.ipc === true ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    // Always drained: a peer that blocks on a full pipe would look slow, not broken.
    stream?.on('data', (chunk: string) => {
      output = (output + chunk).slice(-OUTPUT_TAIL_CHARS);
    });
  }
  let ended: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      ended ??= `could not run ${command}: ${error.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      ended = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (ended !== undefined) return;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS, true, { ref: false })]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };
  if (child.pid === undefined) {
    // spawn() failed synchronously (e.g. no such file); the 'error' event says why.
    return { child, pid: 0, output: () => output, ended: () => ended ?? `${label}: not started`, stop };
  }
  return { child, pid: child.pid, output: () => output, ended: () => ended, stop };
}

/** Resolves with the first match of `pattern` in the peer's output; rejects when it ends or times out first. */
export function waitForOutput(label: string, peer: PeerChild, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return waitFor(label, peer, timeoutMs, (settle) => {
    const check = (): void => {
      const match = pattern.exec(peer.output());
      if (match !== null) settle(match);
    };
    peer.child.stdout?.on('data', check);
    peer.child.stderr?.on('data', check);
    check();
    return () => {
      peer.child.stdout?.off('data', check);
      peer.child.stderr?.off('data', check);
    };
  });
}

/** Resolves with the first IPC message `accept` recognises; rejects when the peer ends or times out first. */
export function waitForMessage<T>(label: string, peer: PeerChild, accept: (message: Serializable) => T | undefined, timeoutMs: number): Promise<T> {
  return waitFor(label, peer, timeoutMs, (settle) => {
    const onMessage = (message: Serializable): void => {
      const value = accept(message);
      if (value !== undefined) settle(value);
    };
    peer.child.on('message', onMessage);
    return () => peer.child.off('message', onMessage);
  });
}

/** The shared race of a start-up wait: `listen` settles it, the peer's exit or the timeout fail it. */
function waitFor<T>(label: string, peer: PeerChild, timeoutMs: number, listen: (settle: (value: T) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let unlisten: (() => void) | undefined;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      unlisten?.();
      peer.child.off('exit', onExit);
      peer.child.off('error', onExit);
    };
    const succeed = (value: T): void => {
      if (settled) return;
      finish();
      resolve(value);
    };
    const fail = (why: string): void => {
      if (settled) return;
      finish();
      reject(new Error(`${label} ${why}; its output:\n${peer.output()}`));
    };
    // 'exit' can come before the last output is read; a tick later the tail is in peer.output().
    const onExit = (): void => {
      setImmediate(() => fail(`ended (${peer.ended() ?? 'exited'}) before it listened`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    peer.child.once('exit', onExit);
    peer.child.once('error', onExit);
    if (peer.ended() !== undefined) {
      onExit();
      return;
    }
    const stopListening = listen(succeed);
    // listen() may have settled at once (the line was already in the output).
    if (settled) stopListening();
    else unlisten = stopListening;
  });
}
