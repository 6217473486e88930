// compose.yaml brought up as a user would (podman-compose here, `docker compose` where Docker is), with
// the locally built images and no GPU: the README's first requests answer as documented through it, both
// services' health checks pass, and `down` leaves nothing behind.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_CONTAINER_TESTS } from '../support/containers/container-engine.ts';
import type { ContainerEngine } from '../support/containers/container-engine.ts';
import { containerImages, GATEWAY_IMAGE, TRITON_CPU_IMAGE } from '../support/containers/images.ts';
import { eventually } from '../support/gateway-harness.ts';
import { REPO_ROOT } from '../support/gateway-process.ts';
import { freePorts } from '../support/real-triton/free-port.ts';
import { readmeExamples } from '../support/readme-examples.ts';

const run = promisify(execFile);
const PROJECT = `tgw-compose-${process.pid}`;
const SERVICES = ['triton', 'gateway'] as const;
const START_TIMEOUT_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 90_000;

describe.skipIf(SKIP_CONTAINER_TESTS)('compose.yaml', () => {
  let engine: ContainerEngine;
  let compose: (args: readonly string[]) => Promise<string>;
  let url = '';
  let up = false;

  beforeAll(async () => {
    engine = await containerImages();
    const [port = 0] = await freePorts(1);
    url = `http://127.0.0.1:${port}`;
    // What a user without NVIDIA's image sets (README, Deployment); GATEWAY_PORT keeps clear of busy ports.
    // TRITON_IMAGE as compose reads it (unset or empty: the default), here defaulting to the CPU image.
    const tritonImage = process.env['TRITON_IMAGE'] === undefined || process.env['TRITON_IMAGE'] === '' ? TRITON_CPU_IMAGE : process.env['TRITON_IMAGE'];
    const env = { ...process.env, TRITON_IMAGE: tritonImage, GATEWAY_IMAGE, GATEWAY_PORT: String(port) };
    const [command, ...prefix] = engine.name === 'podman' ? ['podman-compose'] : ['docker', 'compose'];
    compose = async (args) => (await run(command ?? 'podman-compose', [...prefix, '-p', PROJECT, ...args], { cwd: REPO_ROOT, env, maxBuffer: 16 * 1024 * 1024 })).stdout;
    up = true; // before `up`: a half-done `up` is taken down too
    await compose(['up', '-d']);
    // podman-compose starts the gateway at once (it ignores depends_on's condition); it waits for Triton itself.
    await eventually(async () => (await fetch(`${url}/ready`).catch(() => undefined))?.status === 200, READY_TIMEOUT_MS, 250);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    if (up) await down().catch(() => undefined);
    for (const network of await projectNetworks().catch(() => [])) await run(engine.name, ['network', 'rm', network]).catch(() => undefined);
  }, 120_000);

  async function down(): Promise<void> {
    up = false;
    await compose(['down']);
  }

  async function projectNetworks(): Promise<string[]> {
    const { stdout } = await run(engine.name, ['network', 'ls', '--format', '{{.Name}}']);
    return stdout.split('\n').filter((name) => name.startsWith(`${PROJECT}_`));
  }

  async function projectContainers(): Promise<string[]> {
    const { stdout } = await run(engine.name, ['ps', '--all', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}}']);
    return stdout.split('\n').filter((name) => name !== '');
  }

  it('runs one container per service, the gateway ready in front of Triton', async () => {
    const names = await projectContainers();
    expect(SERVICES.map((service) => names.filter((name) => name.includes(service)).length)).toEqual([1, 1]);
    const body = (await (await fetch(`${url}/ready`)).json()) as { checks?: { models?: Record<string, string> } };
    expect(body.checks?.models).toEqual({ digits: 'ready', text_topic: 'ready' });
  });

  it("answers the README's first requests as the README shows", async () => {
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) {
      const response = await fetch(`${url}${example.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: example.body });
      expect({ path: example.path, status: response.status, body: await response.json() }).toEqual({ path: example.path, status: 200, body: JSON.parse(example.answer) });
    }
  });

  it('both services pass their health checks', async () => {
    for (const name of await projectContainers()) {
      if (engine.name === 'podman') {
        // podman runs health checks from systemd timers, absent here; `healthcheck run` runs one now.
        const check = await run('podman', ['healthcheck', 'run', name]).then(() => 'healthy', (error: unknown) => `unhealthy: ${String(error)}`);
        expect({ name, check }).toEqual({ name, check: 'healthy' });
      } else {
        await eventually(async () => (await run('docker', ['inspect', '--format', '{{.State.Health.Status}}', name])).stdout.trim() === 'healthy', 60_000, 500);
      }
    }
  }, 90_000);

  it('publishes only the gateway, on 127.0.0.1: Triton stays on the compose network', async () => {
    const published = await Promise.all(
      (await projectContainers()).map(async (name) => ({ name, ports: (await run(engine.name, ['port', name])).stdout.trim() })),
    );
    for (const { name, ports } of published) {
      if (name.includes('triton')) expect(ports, name).toBe('');
      else expect(ports, `${name}: published on 127.0.0.1 only (GATEWAY_ADDRESS unset)`).toMatch(/^8080\/tcp -> 127\.0\.0\.1:\d+$/);
    }
  });

  it('goes down and leaves no container behind (podman-compose 1.0.3 leaves its network: removed here)', async () => {
    expect(await projectNetworks()).toEqual([`${PROJECT}_default`]);
    await down();
    expect(await projectContainers()).toEqual([]);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    const left = await projectNetworks();
    if (engine.name === 'docker') expect(left).toEqual([]);
    for (const network of left) await run(engine.name, ['network', 'rm', network]);
  }, 120_000);
});
