// Which container engine the container tests use, and the environment testcontainers needs to talk to
// it. Docker works as testcontainers expects. Podman is reached through its Docker-compatible socket,
// started here when nothing answers on it (it exits by itself once idle), with Ryuk off (its image
// cannot be pulled everywhere, and the tests stop their own containers) and the host pinned to
// 127.0.0.1 (testcontainers otherwise takes a bridge gateway for the host when /.dockerenv exists).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type EngineName = 'podman' | 'docker';

export interface ContainerEngine {
  /** Also the engine's command (`podman stop`, `docker network ls`). */
  readonly name: EngineName;
}

/** Seconds an idle podman service we started keeps running: it outlives the test run by that much, no more. */
const PODMAN_SERVICE_IDLE_S = 120;
const SOCKET_WAIT_MS = 15_000;
const PING_TIMEOUT_MS = 2_000;

let chosen: Promise<ContainerEngine> | undefined;

/** SKIP_CONTAINER_TESTS=1: a machine with neither podman nor Docker skips test/container/. */
export const SKIP_CONTAINER_TESTS = process.env['SKIP_CONTAINER_TESTS'] === '1';

/** Picks the engine once per process and prepares testcontainers' environment for it. */
export function containerEngine(): Promise<ContainerEngine> {
  chosen ??= chooseEngine();
  return chosen;
}

async function chooseEngine(): Promise<ContainerEngine> {
  const wanted = process.env['CONTAINER_ENGINE'];
  const name: EngineName | undefined =
    wanted === 'podman' || wanted === 'docker' ? wanted : onPath('podman') ? 'podman' : onPath('docker') ? 'docker' : undefined;
  if (name === undefined) {
    throw new Error('the container tests need podman or Docker (.ci/run installs podman on Debian); SKIP_CONTAINER_TESTS=1 skips them');
  }
  if (name === 'podman') await preparePodman();
  return { name };
}

async function preparePodman(): Promise<void> {
  const socket = process.env['DOCKER_HOST'] ?? `unix://${defaultPodmanSocket()}`;
  if (!socket.startsWith('unix://')) throw new Error(`DOCKER_HOST=${socket}: the podman tests expect a local unix socket`);
  const path = socket.slice('unix://'.length);
  if (!(await answers(path))) {
    mkdirSync(dirname(path), { recursive: true });
    const service = spawn('podman', ['system', 'service', `--time=${PODMAN_SERVICE_IDLE_S}`, socket], { detached: true, stdio: 'ignore' });
    service.unref();
    const until = Date.now() + SOCKET_WAIT_MS;
    while (!(await answers(path))) {
      if (Date.now() > until) throw new Error(`podman system service did not answer on ${path} within ${SOCKET_WAIT_MS} ms`);
      await sleep(100);
    }
  }
  process.env['DOCKER_HOST'] = socket;
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
}

function defaultPodmanSocket(): string {
  if (process.getuid?.() === 0) return '/run/podman/podman.sock';
  const runtimeDir = process.env['XDG_RUNTIME_DIR'] ?? `/run/user/${process.getuid?.() ?? 1000}`;
  return `${runtimeDir}/podman/podman.sock`;
}

function onPath(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** True when the Docker-compatible API on this unix socket answers its ping. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = request({ socketPath, path: '/_ping', timeout: PING_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    ping.once('timeout', () => ping.destroy());
    ping.once('error', () => resolve(false));
    ping.end();
  });
}
