// `npm run bench`, the README's command, run for real at a tiny scale: every server of the side-by-side
// table starts on this machine (Triton, three gateways, the FastAPI peer, the express echo), answers
// every request, and the table, its ratios and the chart are written; then the soak (the benchmark's
// last part) runs for a few seconds and reports RSS over time and its error count. Figures are not judged here
// (benchmarks are not tests); only that the benchmark works and nothing in it fails.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cache-lock.ts';

const ROWS = [
  'Triton HTTP, direct',
  'Triton gRPC, direct',
  'gateway, batching on',
  'gateway, batching off',
  'gateway, embedded ONNX Runtime',
  'FastAPI + onnxruntime (Python)',
  'express JSON echo',
  'gateway, batching on, binary',
  'Triton HTTP, direct, binary',
];
const CONCURRENCIES = [1, 4];
const BENCH_TIMEOUT_MS = 10 * 60 * 1000;
/** The soak, the benchmark's last part, for a few seconds instead of ten minutes. */
const SOAK_DURATION_S = 3;

let resultsDir = '';
let output = '';
let exitCode: number | null = null;

beforeAll(async () => {
  resultsDir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  const child = spawn('npm', ['run', 'bench'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      BENCH_DURATION_S: '1',
      BENCH_CONCURRENCY: CONCURRENCIES.join(','),
      BENCH_RESULTS_DIR: resultsDir,
      SOAK_DURATION_S: String(SOAK_DURATION_S),
      SOAK_CONCURRENCY: '8',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a stop reaches the benchmark under npm too.
    detached: true,
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // Stopped if it outlives the budget: on SIGTERM the benchmark stops the servers it started.
  const guard = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  }, BENCH_TIMEOUT_MS - 10_000);
  exitCode = await new Promise<number | null>((resolve) => {
    child.on('exit', resolve);
    child.on('error', (error) => {
      output += `\nspawn failed: ${error.message}`;
      resolve(null);
    });
  });
  clearTimeout(guard);
}, BENCH_TIMEOUT_MS);

afterAll(async () => {
  await rm(resultsDir, { recursive: true, force: true });
});

describe('npm run bench', () => {
  it('exits 0 and prints one row per server and concurrency, every request answered', () => {
    expect(exitCode, output.slice(-4000)).toBe(0);
    for (const concurrency of CONCURRENCIES) {
      for (const row of ROWS) {
        const line = output.split('\n').find((text) => text.startsWith(`| ${concurrency} | ${row} |`));
        expect(line, `row "${row}" at concurrency ${concurrency}`).toBeDefined();
        const cells = (line ?? '').split('|').map((cell) => cell.trim());
        const [requestsPerSecond, , , failed] = cells.slice(3, 7).map(Number);
        expect(requestsPerSecond, line).toBeGreaterThan(0);
        expect(failed, line).toBe(0);
      }
    }
  });

  it('prints the ratios of the gateway to each other server', () => {
    expect(output).toContain('Throughput of the gateway (batching on, JSON) divided by each');
    expect(output).toContain('p99 latency of the gateway divided by each');
    for (const concurrency of CONCURRENCIES) expect(output).toMatch(new RegExp(`\\n\\| ${concurrency} \\| \\d+\\.\\d\\d \\|`));
  });

  it('ends with the soak: RSS over time and the error count', () => {
    expect(output).toContain(`soak: ${SOAK_DURATION_S} s at concurrency 8`);
    const series = /gateway RSS over time \(MiB\): (.+)/.exec(output)?.[1] ?? '';
    const points = [...series.matchAll(/([\d.]+)s (\d+)/g)].map((match) => Number(match[2]));
    expect(points.length, series).toBeGreaterThanOrEqual(3);
    for (const rss of points) expect(rss, series).toBeGreaterThan(0);
    expect(output).toMatch(/\nerrors: 0 /);
    expect(output).toContain('gateway process: still running');
  });

  it('writes the table and a chart with a line per server in each panel', async () => {
    const markdown = await readFile(join(resultsDir, 'performance.md'), 'utf8');
    expect(markdown).toContain('| 4 | gateway, batching on |');
    const svg = await readFile(join(resultsDir, 'performance.svg'), 'utf8');
    expect(svg.match(/<polyline /g)).toHaveLength(ROWS.length * 2);
  });
});
