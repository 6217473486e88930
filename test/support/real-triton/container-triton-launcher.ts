// Triton from a container image, started through testcontainers (podman here, Docker elsewhere): the
// same TritonServerHandle as the pip-installed server, so the integration tests run unchanged against an
// image (TRITON_IMAGE=localhost/triton-cpu:2.51.0 npm test). The repository is bind-mounted read-only at
// /models; HTTP and gRPC are published on free host ports that a restart keeps, so a gateway pointed at
// the handle reconnects. On a network, the container also answers as `alias` (alias:8001 for gRPC).
import { GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';
import type { ContainerRuntimeClient, StartedNetwork, StartedTestContainer } from 'testcontainers';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerEngine } from '../containers/container-engine.ts';
import { freePorts } from './free-port.ts';
import { sharedTritonArgs } from './triton-args.ts';
import { tritonHttp, waitForHttpOk } from './triton-http.ts';
import type { TritonHttpAnswer } from './triton-http.ts';
import type { TritonLauncher, TritonServerHandle, TritonServerOptions } from './triton-server.ts';

/** The engine's own view of a container (dockerode): kill with a signal, pause, start again. */
type EngineContainer = ReturnType<ContainerRuntimeClient['container']['getById']>;

const HTTP_PORT = 8000;
const GRPC_PORT = 8001;
/** Published too (on any free port): podman reports every port an image exposes, and testcontainers waits for all of them to be bound. */
const METRICS_PORT = 8002;
const REPOSITORY_IN_CONTAINER = '/models';
/** The Python backend keeps tensors in /dev/shm; the engines' default of 64 MB is too small for it. */
const SHM_BYTES = 512 * 1024 * 1024;
const LIVE_TIMEOUT_MS = 60_000;
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** Longer than the --exit-timeout-secs=5 both launchers pass, so a stop is graceful. */
const STOP_TIMEOUT_S = 20;
const START_ATTEMPTS = 5;
const SAME_PORT_ATTEMPTS = 40;
const SAME_PORT_RETRY_MS = 250;
const ADDRESS_IN_USE = /address already in use|port is already allocated/i;
const MAX_LOG_CHARS = 8 * 1024 * 1024;
const LOG_TAIL_LINES = 150;
const SALVAGE_LOG_WAIT_MS = 2_000;

let containers = 0;

export interface ContainerTritonOptions {
  readonly image: string;
  /** Also reachable from containers on this network, under this name. */
  readonly network?: { readonly network: StartedNetwork; readonly alias: string };
}

export class ContainerTritonLauncher implements TritonLauncher {
  readonly description: string;
  readonly #options: ContainerTritonOptions;

  constructor(options: ContainerTritonOptions) {
    this.#options = options;
    this.description = `the Triton image ${options.image}, started with testcontainers`;
  }

  async launch(options: TritonServerOptions): Promise<TritonServerHandle> {
    const args = sharedTritonArgs(options);
    await containerEngine();
    for (let attempt = 1; ; attempt++) {
      const [http = 0, grpc = 0] = await freePorts(2);
      const server = new ContainerTritonServer(this.description, () => this.#container(options, args, http, grpc), { http, grpc });
      const outcome = await server.startContainer();
      if (outcome === 'live') return server;
      // Another process took a free port before the engine bound it: try others.
      if (outcome !== 'address in use' || attempt >= START_ATTEMPTS) throw server.failure(outcome);
    }
  }

  #container(options: TritonServerOptions, args: readonly string[], http: number, grpc: number): GenericContainer {
    let container = new GenericContainer(this.#options.image)
      .withCommand(['tritonserver', `--model-repository=${REPOSITORY_IN_CONTAINER}`, ...args])
      .withBindMounts([{ source: options.repository, target: REPOSITORY_IN_CONTAINER, mode: 'ro' }])
      .withSharedMemorySize(SHM_BYTES)
      .withExposedPorts({ container: HTTP_PORT, host: http }, { container: GRPC_PORT, host: grpc }, METRICS_PORT)
      .withWaitStrategy(Wait.forHttp('/v2/health/live', HTTP_PORT))
      .withStartupTimeout(LIVE_TIMEOUT_MS);
    const network = this.#options.network;
    if (network !== undefined) container = container.withNetwork(network.network).withNetworkAliases(network.alias);
    return container;
  }
}

/** One container at a time; restart() replaces it with a fresh one on the same ports, as a new process would be. */
class ContainerTritonServer implements TritonServerHandle {
  readonly #description: string;
  readonly #build: () => GenericContainer;
  readonly #ports: { readonly http: number; readonly grpc: number };
  #container: StartedTestContainer | undefined;
  /** Why the server does not run (undefined while it does). */
  #ended: string | undefined = 'not started';
  #stopping: Promise<void> | undefined;
  #log = '';
  #starts = 0;

  constructor(description: string, build: () => GenericContainer, ports: { readonly http: number; readonly grpc: number }) {
    this.#description = description;
    this.#build = build;
    this.#ports = ports;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.#ports.grpc}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.#ports.http}`;
  }

  /** The running container's id, for tests that act on it with the engine directly. */
  get containerId(): string {
    if (this.#container === undefined) throw new Error('no Triton container is running');
    return this.#container.getId();
  }

  /** 'live', or why not: 'address in use' or another reason (the log says more). */
  async startContainer(): Promise<string> {
    this.#starts += 1;
    const name = `triton-gateway-test-triton-${process.pid}-${containers++}`;
    this.#append(`\n===== [test harness] start #${this.#starts}: container ${name}\n`);
    try {
      this.#container = await this.#build()
        .withName(name)
        .withLogConsumer((stream) => this.#follow(stream))
        .start();
    } catch (error) {
      await this.#salvage(name); // testcontainers leaves a container that failed to start; its log says why
      const message = error instanceof Error ? error.message : String(error);
      return ADDRESS_IN_USE.test(message) ? 'address in use' : message;
    }
    this.#ended = undefined;
    this.#stopping = undefined;
    return 'live';
  }

  log(): string {
    return this.#log;
  }

  failure(message: string): Error {
    const tail = this.#log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    return new Error(`${this.#description}: ${message}\n--- last ${LOG_TAIL_LINES} lines of the tritonserver log ---\n${tail}`);
  }

  request(method: string, path: string, body?: unknown): Promise<TritonHttpAnswer> {
    return tritonHttp(this.httpUrl, method, path, body);
  }

  async waitReady(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const failed = await waitForHttpOk(this.httpUrl, '/v2/health/ready', timeoutMs, () => this.#ended);
    if (failed !== undefined) throw this.failure(`tritonserver not ready: ${failed}`);
  }

  /** SIGTERM (a paused container is resumed first), wait for the exit, remove the container; safe twice. */
  stop(): Promise<void> {
    const container = this.#container;
    if (container === undefined) return Promise.resolve();
    this.#stopping ??= (async () => {
      const engineContainer = await this.#engineContainer(container);
      if ((await engineContainer.inspect()).State.Paused) await engineContainer.unpause();
      this.#ended = 'stopped';
      await container.stop({ timeout: STOP_TIMEOUT_S * 1000, remove: true });
      this.#container = undefined;
    })();
    return this.#stopping;
  }

  /** SIGKILL, like a crash; resolves when the container is gone. */
  async kill(): Promise<void> {
    const container = this.#container;
    if (container === undefined) return;
    const engineContainer = await this.#engineContainer(container);
    this.#ended = 'killed (SIGKILL)';
    await engineContainer.kill({ signal: 'SIGKILL' }).catch(ignoreNotRunning);
    await engineContainer.wait();
    this.#append('\n===== [test harness] killed with SIGKILL\n');
    await container.stop({ timeout: 0, remove: true });
    this.#container = undefined;
  }

  /** The engine freezes the container's processes (cgroup freezer): connections stay open, nothing answers. */
  async pause(): Promise<void> {
    await (await this.#engineContainer(this.#running('pause'))).pause();
  }

  async resume(): Promise<void> {
    await (await this.#engineContainer(this.#running('resume'))).unpause();
  }

  async restart(): Promise<void> {
    await this.stop();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.startContainer();
      if (outcome === 'live') return;
      if (outcome !== 'address in use' || attempt >= SAME_PORT_ATTEMPTS) throw this.failure(`tritonserver did not restart on the same ports: ${outcome}`);
      await sleep(SAME_PORT_RETRY_MS);
    }
  }

  #running(what: string): StartedTestContainer {
    if (this.#container === undefined || this.#ended !== undefined) throw this.failure(`cannot ${what}: tritonserver is not running (${this.#ended ?? 'no container'})`);
    return this.#container;
  }

  async #engineContainer(container: StartedTestContainer): Promise<EngineContainer> {
    const client = await getContainerRuntimeClient();
    return client.container.getById(container.getId());
  }

  async #salvage(name: string): Promise<void> {
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(name);
    try {
      const stream = await client.container.logs(container);
      this.#follow(stream);
      await Promise.race([new Promise((resolve) => stream.once('end', resolve)), sleep(SALVAGE_LOG_WAIT_MS)]);
      await container.remove({ force: true });
    } catch {
      // never created, or already gone
    }
  }

  #follow(stream: Readable): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.#append(chunk));
    stream.on('error', () => undefined); // the log ends with the container; nothing to report
  }

  #append(text: string): void {
    this.#log += text;
    if (this.#log.length > MAX_LOG_CHARS) this.#log = `[... older log dropped ...]\n${this.#log.slice(-MAX_LOG_CHARS / 2)}`;
  }
}

/** Killing a container that already exited is not an error here. */
function ignoreNotRunning(error: unknown): void {
  if (!/is not running|not running|409/i.test(String(error))) throw error;
}
