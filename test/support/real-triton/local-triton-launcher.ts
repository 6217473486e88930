// The pip-installed tritonserver (nvidia-pytriton wheel) as a child process of the test worker: free
// ports from the OS, a unique shared-memory prefix for the Python backend per start, the log captured,
// and a watchdog that kills the server if the test process dies without stopping it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts } from './free-port.ts';
import { provisionTriton } from './provision.ts';
import { tritonHttp, waitForHttpOk } from './triton-http.ts';
import type { TritonHttpAnswer } from './triton-http.ts';
import type { TritonInstallation } from './provision.ts';
import { ADDRESS_IN_USE, ServerLog, startRetryingPorts } from './server-log.ts';
import type { StartRetry } from './server-log.ts';
import { checkTritonOptions, sharedTritonArgs } from './triton-args.ts';
import type { TritonLauncher, TritonServerHandle, TritonServerOptions } from './triton-server.ts';

const HOST = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const LIVE_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const FRESH_PORTS: StartRetry = { attempts: 5, pauseMs: 0 };
const SAME_PORTS: StartRetry = { attempts: 40, pauseMs: 250 };
const SHM_DIR = '/dev/shm';

let instances = 0;

export class LocalTritonLauncher implements TritonLauncher {
  readonly description = 'the pip-installed tritonserver (nvidia-pytriton) as a child process';

  async launch(options: TritonServerOptions): Promise<TritonServerHandle> {
    checkTritonOptions(options);
    const server = new LocalTritonServer(await provisionTriton(), options);
    await server.startOnFreePorts();
    return server;
  }
}

interface Running {
  readonly child: ChildProcess;
  readonly shmPrefix: string;
  readonly watchdog: ChildProcess | undefined;
  /** Resolves with how the process ended. */
  readonly exited: Promise<string>;
  ended: string | undefined;
  stopping: Promise<void> | undefined;
}

class LocalTritonServer implements TritonServerHandle {
  readonly #installation: TritonInstallation;
  readonly #options: TritonServerOptions;
  readonly #id = `tgw${process.pid}x${instances++}`;
  #ports = { http: 0, grpc: 0 };
  readonly #log = new ServerLog();
  #running: Running | undefined;

  constructor(installation: TritonInstallation, options: TritonServerOptions) {
    this.#installation = installation;
    this.#options = options;
  }

  get grpcAddress(): string {
    return `${HOST}:${this.#ports.grpc}`;
  }

  get httpUrl(): string {
    return `http://${HOST}:${this.#ports.http}`;
  }

  log(): string {
    return this.#log.text;
  }

  async startOnFreePorts(): Promise<void> {
    const outcome = await startRetryingPorts(async () => {
      const [http = 0, grpc = 0] = await freePorts(2, HOST);
      this.#ports = { http, grpc };
      return this.#startAndWaitLive();
    }, FRESH_PORTS);
    if (outcome !== 'live') throw this.#log.failure(`tritonserver did not start: ${outcome}`);
  }

  async restart(): Promise<void> {
    await this.stop();
    const outcome = await startRetryingPorts(() => this.#startAndWaitLive(), SAME_PORTS);
    if (outcome !== 'live') throw this.#log.failure(`tritonserver did not restart on the same ports: ${outcome}`);
  }

  async waitReady(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const failed = await waitForHttpOk(this.httpUrl, '/v2/health/ready', timeoutMs, () => {
      const running = this.#running;
      return running === undefined ? 'stopped' : running.ended;
    });
    if (failed !== undefined) throw this.#log.failure(`tritonserver not ready: ${failed}`);
  }

  stop(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return Promise.resolve();
    running.stopping ??= (async () => {
      if (running.ended === undefined) {
        running.child.kill('SIGCONT'); // a paused server cannot act on SIGTERM
        running.child.kill('SIGTERM');
        const timedOut = await Promise.race([running.exited.then(() => false), sleep(STOP_TIMEOUT_MS, true, { ref: false })]);
        if (timedOut) {
          this.#log.note(`no exit ${STOP_TIMEOUT_MS} ms after SIGTERM: SIGKILL`);
          running.child.kill('SIGKILL');
          await running.exited;
        }
      }
      finish(running);
    })();
    return running.stopping;
  }

  async kill(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    if (running.ended === undefined) running.child.kill('SIGKILL');
    await running.exited;
    finish(running);
  }

  async pause(): Promise<void> {
    this.#signalRunning('SIGSTOP');
  }

  async resume(): Promise<void> {
    this.#signalRunning('SIGCONT');
  }

  #signalRunning(signal: NodeJS.Signals): void {
    const running = this.#running;
    if (running === undefined || running.ended !== undefined) throw this.#log.failure(`cannot send ${signal}: tritonserver is not running`);
    running.child.kill(signal);
  }

  /** 'live', or why not: 'address in use' or another reason (the log says more). */
  async #startAndWaitLive(): Promise<string> {
    const running = this.#spawn();
    const failed = await waitForHttpOk(this.httpUrl, '/v2/health/live', LIVE_TIMEOUT_MS, () => running.ended);
    if (failed === undefined) return 'live';
    if (running.ended !== undefined) {
      finish(running);
      return ADDRESS_IN_USE.test(this.#log.sinceLastStart()) ? 'address in use' : `it exited (${running.ended})`;
    }
    running.child.kill('SIGKILL');
    await running.exited;
    finish(running);
    return failed;
  }

  #spawn(): Running {
    const { tritonserver, backendsDir, cachesDir, binDir, libraryDir } = this.#installation;
    const options = this.#options;
    const start = this.#log.markStart('tritonserver');
    const shmPrefix = `${this.#id}s${start}_`;
    const args = [
      `--model-repository=${options.repository}`,
      `--backend-directory=${backendsDir}`,
      `--cache-directory=${cachesDir}`,
      `--http-address=${HOST}`,
      `--http-port=${this.#ports.http}`,
      `--grpc-address=${HOST}`,
      `--grpc-port=${this.#ports.grpc}`,
      '--allow-metrics=false',
      // Several servers share the host's /dev/shm: each start gets its own region names.
      `--backend-config=python,shm-region-prefix-name=${shmPrefix}`,
      ...sharedTritonArgs(options),
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // The backend stub's embedded Python finds numpy and onnxruntime only through the venv first on PATH.
      PATH: `${binDir}:${process.env['PATH'] ?? ''}`,
      LD_LIBRARY_PATH: libraryDir,
      PYTHONDONTWRITEBYTECODE: '1',
    };
    delete env['PYTHONPATH'];
    delete env['PYTHONHOME'];
    this.#log.append(`tritonserver ${args.join(' ')}\n`);
    const child = spawn(tritonserver, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => this.#log.append(chunk));
    }
    const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid, shmPrefix);
    const running: Running = {
      child,
      shmPrefix,
      watchdog,
      ended: undefined,
      stopping: undefined,
      exited: new Promise((resolve) => {
        child.once('error', (error) => {
          running.ended = `could not run ${tritonserver}: ${error.message}`;
          resolve(running.ended);
        });
        child.once('exit', (code, signal) => {
          running.ended = signal === null ? `exit code ${code}` : `signal ${signal}`;
          this.#log.note(`tritonserver ended: ${running.ended}`);
          resolve(running.ended);
        });
      }),
    };
    this.#running = running;
    return running;
  }

  request(method: string, path: string, body?: unknown): Promise<TritonHttpAnswer> {
    return tritonHttp(this.httpUrl, method, path, body);
  }
}

/** After the process is gone: its Python backend shared memory, and its watchdog. */
function finish(running: Running): void {
  running.watchdog?.kill('SIGKILL');
  removeSharedMemory(running.shmPrefix);
}

function removeSharedMemory(prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(SHM_DIR);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix)) rmSync(`${SHM_DIR}/${name}`, { force: true });
}

/**
 * A detached shell that kills the server when this test process dies without stopping it (a crashed or
 * killed vitest worker), then removes its shared memory. It is killed in finish() on a normal stop.
 */
function startWatchdog(serverPid: number, shmPrefix: string): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -KILL "$2" 2>/dev/null; sleep 2; rm -f /dev/shm/"$3"*';
  const watchdog = spawn('sh', ['-c', script, 'triton-watchdog', String(process.pid), String(serverPid), shmPrefix], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  return watchdog;
}
