// Triton from a container image, started through testcontainers (podman here, Docker elsewhere): the
// same TritonServerHandle as the pip-installed server, so the integration tests run unchanged against an
// image (TRITON_TEST_IMAGE=localhost/triton-cpu:2.51.0 npm test). The repository is bind-mounted read-only at
// /models; HTTP and gRPC are published on free host ports that a restart keeps, so a gateway pointed at
// the handle reconnects. On a network, the container also answers as `alias` (alias:8001 for gRPC).
import { GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';
import type { ContainerRuntimeClient, StartedNetwork, StartedTestContainer } from 'testcontainers';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerEngine } from '../containers/container-engine.ts';
import { freePorts } from './free-port.ts';
import { ADDRESS_IN_USE, ServerLog, startRetryingPorts } from './server-log.ts';
import type { StartRetry } from './server-log.ts';
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
const FRESH_PORTS: StartRetry = { attempts: 5, pauseMs: 0 };
const SAME_PORTS: StartRetry = { attempts: 40, pauseMs: 250 };
const SALVAGE_LOG_WAIT_MS = 2_000;

let containers = 0;

interface Ports {
  readonly http: number;
  readonly grpc: number;
}

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
    const server = new ContainerTritonServer(this.description, (ports) => this.#container(options, args, ports));
    await server.startOnFreePorts();
    return server;
  }

  #container(options: TritonServerOptions, args: readonly string[], { http, grpc }: Ports): GenericContainer {
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
  readonly #build: (ports: Ports) => GenericContainer;
  #ports: Ports = { http: 0, grpc: 0 };
  readonly #log = new ServerLog();
  #container: StartedTestContainer | undefined;
  /** Why the server does not run (undefined while it does). */
  #ended: string | undefined = 'not started';
  #stopping: Promise<void> | undefined;

  constructor(description: string, build: (ports: Ports) => GenericContainer) {
    this.#description = description;
    this.#build = build;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.#ports.grpc}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.#ports.http}`;
  }

  async startOnFreePorts(): Promise<void> {
    const outcome = await startRetryingPorts(async () => {
      const [http = 0, grpc = 0] = await freePorts(2);
      this.#ports = { http, grpc };
      return this.#startContainer();
    }, FRESH_PORTS);
    if (outcome !== 'live') throw this.#failure(`tritonserver did not start: ${outcome}`);
  }

  /** 'live', or why not: 'address in use' or another reason (the log says more). */
  async #startContainer(): Promise<string> {
    const name = `triton-gateway-test-triton-${process.pid}-${containers++}`;
    this.#log.markStart(`container ${name}`);
    try {
      this.#container = await this.#build(this.#ports)
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
    return this.#log.text;
  }

  #failure(message: string): Error {
    return this.#log.failure(`${this.#description}: ${message}`);
  }

  request(method: string, path: string, body?: unknown): Promise<TritonHttpAnswer> {
    return tritonHttp(this.httpUrl, method, path, body);
  }

  async waitReady(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const failed = await waitForHttpOk(this.httpUrl, '/v2/health/ready', timeoutMs, () => this.#ended);
    if (failed !== undefined) throw this.#failure(`tritonserver not ready: ${failed}`);
  }

  /** SIGTERM (a paused container is resumed first), wait for the exit, remove the container; safe twice. */
  stop(): Promise<void> {
    const container = this.#container;
    if (container === undefined) return Promise.resolve();
    this.#stopping ??= (async () => {
      this.#ended = 'stopped';
      const engineContainer = await engineContainerOf(container);
      const paused = await engineContainer.inspect().then((info) => info.State.Paused, () => false);
      if (paused) await engineContainer.unpause();
      await container.stop({ timeout: STOP_TIMEOUT_S * 1000, remove: true }).catch(ignoreGone);
      this.#container = undefined;
    })();
    return this.#stopping;
  }

  /** SIGKILL, like a crash; resolves when the container is gone. */
  async kill(): Promise<void> {
    const container = this.#container;
    if (container === undefined) return;
    const engineContainer = await engineContainerOf(container);
    this.#ended = 'killed (SIGKILL)';
    await engineContainer.kill({ signal: 'SIGKILL' }).catch(ignoreGone);
    await engineContainer.wait().catch(ignoreGone);
    this.#log.note('killed with SIGKILL');
    await container.stop({ timeout: 0, remove: true }).catch(ignoreGone);
    this.#container = undefined;
  }

  /** The engine freezes the container's processes (cgroup freezer): connections stay open, nothing answers. */
  async pause(): Promise<void> {
    await (await engineContainerOf(this.#running('pause'))).pause();
  }

  async resume(): Promise<void> {
    await (await engineContainerOf(this.#running('resume'))).unpause();
  }

  async restart(): Promise<void> {
    await this.stop();
    const outcome = await startRetryingPorts(() => this.#startContainer(), SAME_PORTS);
    if (outcome !== 'live') throw this.#failure(`tritonserver did not restart on the same ports: ${outcome}`);
  }

  #running(what: string): StartedTestContainer {
    if (this.#container === undefined || this.#ended !== undefined) throw this.#failure(`cannot ${what}: tritonserver is not running (${this.#ended ?? 'no container'})`);
    return this.#container;
  }

  async #salvage(name: string): Promise<void> {
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(name);
    try {
      const stream = await client.container.logs(container);
      this.#follow(stream);
      await Promise.race([new Promise((resolve) => stream.once('end', resolve)), sleep(SALVAGE_LOG_WAIT_MS)]);
    } catch {
      // no log to keep: the container was never created
    } finally {
      await container.remove({ force: true }).catch(ignoreGone);
    }
  }

  #follow(stream: Readable): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.#log.append(chunk));
    stream.on('error', () => undefined); // the log ends with the container; nothing to report
  }
}

async function engineContainerOf(container: StartedTestContainer): Promise<EngineContainer> {
  const client = await getContainerRuntimeClient();
  return client.container.getById(container.getId());
}

/** A container that is already stopped or gone is what was wanted. */
function ignoreGone(error: unknown): void {
  if (!/not running|no such container|not found|is not paused|409|404|304/i.test(String(error))) throw error;
}
