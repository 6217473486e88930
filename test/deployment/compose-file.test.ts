// compose.yaml and compose.gpu.yaml read offline: what no `up` on a laptop would show is wrong until the
// day it matters (a misspelt setting, a stop that kills instead of draining, Triton published).
// test/container/compose.test.ts brings the same file up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, loadConfig } from '../../gateway/config.ts';
import { FINAL_ANSWER_WAIT_MS } from '../../gateway/gateway.ts';
import { REPO_ROOT } from '../support/gateway-process.ts';

interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly ports?: readonly string[];
  readonly volumes?: readonly string[];
  readonly shm_size?: string;
  readonly healthcheck?: { readonly test?: readonly string[]; readonly start_period?: string };
  readonly depends_on?: Readonly<Record<string, { readonly condition?: string }>>;
  readonly stop_grace_period?: string;
  readonly deploy?: { readonly resources?: { readonly reservations?: { readonly devices?: readonly { readonly driver?: string; readonly capabilities?: readonly string[] }[] } } };
}

interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>;
}

const TRITON_GRPC_PORT = 8001;
const base = readCompose('compose.yaml');
const gpu = readCompose('compose.gpu.yaml');
const triton = service(base, 'triton');
const gateway = service(base, 'gateway');

function readCompose(file: string): ComposeFile {
  return parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as ComposeFile;
}

function service(file: ComposeFile, name: string): ComposeService {
  const found = file.services[name];
  if (found === undefined) throw new Error(`no service ${name}`);
  return found;
}

/** Compose durations: "35s", "1m30s", "5m". */
function seconds(duration: string | undefined): number {
  const parts = [...(duration ?? '').matchAll(/(\d+)(h|m|s|ms)/g)];
  if (parts.length === 0) throw new Error(`not a duration: ${duration}`);
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 } as const;
  return parts.reduce((sum, [, value, which]) => sum + Number(value) * unit[which as keyof typeof unit], 0);
}

/** The value of --flag=value in a command, or undefined. */
function flag(command: readonly string[] | undefined, name: string): string | undefined {
  return command?.find((part) => part.startsWith(`--${name}=`))?.slice(name.length + 3);
}

describe('compose.yaml', () => {
  it("sets only the gateway's own settings, with values it accepts", () => {
    const environment = gateway.environment ?? {};
    const known = new Set(Object.keys(configSchema.shape));
    expect(Object.keys(environment).filter((name) => !known.has(name))).toEqual([]);
    expect(loadConfig(environment)).toMatchObject({ ok: true });
  });

  it("points the gateway at the triton service's gRPC port", () => {
    expect(triton.command?.[0]).toBe('tritonserver');
    const port = flag(triton.command, 'grpc-port') ?? String(TRITON_GRPC_PORT);
    expect(gateway.environment?.['TRITON_GRPC_URL']).toBe(`triton:${port}`);
  });

  it('gives each service more time to stop than its drain takes', () => {
    const loaded = loadConfig(gateway.environment ?? {});
    if (!loaded.ok) throw new Error(loaded.message);
    expect(seconds(gateway.stop_grace_period)).toBeGreaterThan((loaded.config.SHUTDOWN_GRACE_MS + FINAL_ANSWER_WAIT_MS) / 1000);
    expect(seconds(triton.stop_grace_period)).toBeGreaterThan(Number(flag(triton.command, 'exit-timeout-secs') ?? 30));
  });

  it('runs Triton as the gateway expects: polled read-only repository, shared memory, ready check with a start period', () => {
    expect(flag(triton.command, 'model-control-mode')).toBe('poll');
    expect(flag(triton.command, 'model-repository')).toBe('/models');
    expect(triton.volumes).toContain('./model_repository:/models:ro');
    expect(triton.shm_size).toMatch(/^\d+(gb|g|mb|m)$/i);
    expect(triton.healthcheck?.test?.join(' ')).toContain('/v2/health/ready');
    expect(seconds(triton.healthcheck?.start_period)).toBeGreaterThanOrEqual(60);
    expect(triton.image).toMatch(/^\$\{TRITON_IMAGE:-nvcr\.io\/nvidia\/tritonserver:[\w.-]+\}$/);
  });

  it('starts the gateway once Triton is healthy and checks the gateway on /ready', () => {
    expect(gateway.depends_on?.['triton']?.condition).toBe('service_healthy');
    expect(gateway.healthcheck?.test).toEqual(['CMD-SHELL', 'node dist/gateway/healthcheck.js /ready']);
    expect(gateway.build).toBe('.');
  });

  it('publishes the gateway only', () => {
    expect(triton.ports).toBeUndefined();
    expect(gateway.ports).toEqual(['${GATEWAY_PORT:-8080}:8080']);
  });
});

describe('compose.gpu.yaml', () => {
  it('reserves NVIDIA GPUs for Triton and changes nothing else', () => {
    expect(Object.keys(gpu.services)).toEqual(['triton']);
    const devices = service(gpu, 'triton').deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toEqual([expect.objectContaining({ driver: 'nvidia', capabilities: ['gpu'] })]);
    expect(base.services['triton']?.deploy).toBeUndefined();
  });
});
