// What every benchmark shares: the gateway image's V8 settings (read from the Dockerfile, so the
// figures are those of what ships) and the digits request body.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/support/cache-lock.ts';

/**
 * The environment the gateway image sets for the process itself (Dockerfile ENV): V8's heap settings
 * and glibc's allocator settings, so benchmarks measure what ships.
 */
export function imageProcessEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const nodeOptions = /NODE_OPTIONS="([^"]+)"/.exec(dockerfile)?.[1];
  if (nodeOptions === undefined) throw new Error('Dockerfile: no NODE_OPTIONS="..." found');
  const malloc = [...dockerfile.matchAll(/\b(MALLOC_[A-Z_]+)=(\S+)/g)].map((match) => [match[1] ?? '', match[2] ?? '']);
  return { NODE_OPTIONS: nodeOptions, ...Object.fromEntries(malloc) };
}

/** The first image of the digits fixture: 64 pixel values. */
export const digitsPixels: readonly number[] = (JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/digits-sample.json'), 'utf8')) as { images: number[][] }).images[0] ?? [];

/** One row of the digits model as a JSON infer request. */
export const digitsJsonBody = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: digitsPixels }] });

/** BENCH_GATEWAY_ENV, e.g. "MAX_INFLIGHT_BATCHES=2 BATCH_WINDOW_MS=1": settings for every gateway a benchmark starts. */
function benchGatewaySettings(): Record<string, string> {
  return Object.fromEntries(
    (process.env['BENCH_GATEWAY_ENV'] ?? '')
      .split(/\s+/)
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

/**
 * The environment of every gateway a benchmark starts, on top of its own port and host: the image's
 * process settings, BENCH_NODE_OPTIONS instead of the image's V8 flags when set, and BENCH_GATEWAY_ENV.
 */
export function benchGatewayEnv(): Record<string, string> {
  const nodeOptions = process.env['BENCH_NODE_OPTIONS'];
  // No load balancer has to take a benchmark's gateway out of rotation: its stop need not wait the lame duck.
  return {
    ...imageProcessEnv(),
    ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }),
    SHUTDOWN_LAME_DUCK_MS: '0',
    ...benchGatewaySettings(),
  };
}

/** The benchmark's gateway environment in words, for the report's header. */
export function describeGatewayEnv(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}
