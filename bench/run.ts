// npm run bench: the gateway side by side with what a user could run instead, in one run, on the digits
// model (one row of 64 FP32 pixels per request), at each concurrency, in this order of rows:
//   Triton's HTTP endpoint directly; Triton's gRPC endpoint directly (a grpc-js closed loop); the gateway
//   with batching on and off (both in front of that same Triton); the gateway with the embedded ONNX
//   Runtime backend; a textbook Python FastAPI + onnxruntime server (bench/peers/); a bare express JSON
//   echo of the same body (the HTTP layer's own limit); then, with the binary tensor data extension
//   (Triton clients' default), the gateway and Triton's HTTP endpoint again.
// For each: requests/s, p50/p99, failed requests, the serving process trees' CPU ms per request (Triton's
// included where it serves) and the front process's peak RSS; then the gateway's ratios to each. Writes
// bench/results/performance.md and performance.svg. Load generator and servers share the machine: only
// ratios within one run mean anything.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { renderChart } from './chart.ts';
import { grpcLoad, digitsInferRequest } from './load/grpc-load.ts';
import { httpLoad } from './load/http-load.ts';
import type { LoadResult } from './load/load-result.ts';
import { startExpressEcho } from './peers/express-echo.ts';
import { provisionFastApiPeer, startFastApiPeer } from './peers/fastapi-peer.ts';
import { cpuSeconds, findProcess, peakRssMiB, processTree, resetPeakRss } from './process-usage.ts';
import { buildInferRequest } from '../test/support/binary-infer.ts';
import { REPO_ROOT } from '../test/support/cache-lock.ts';
import { benchGatewayEnv, describeGatewayEnv, digitsJsonBody, digitsPixels } from './settings.ts';
import { eventually } from '../test/support/gateway-harness.ts';
import { startGatewayProcess } from '../test/support/gateway-process.ts';
import type { GatewayProcess } from '../test/support/gateway-process.ts';
import { freePorts } from '../test/support/real-triton/free-port.ts';
import { provisionTriton } from '../test/support/real-triton/provision.ts';
import { tritonLauncher } from '../test/support/real-triton/triton-server.ts';
import { createTwinRepository } from '../test/support/real-triton/twin-repository.ts';

const CONCURRENCIES = (process.env['BENCH_CONCURRENCY'] ?? '1,8,32,64,128').split(',').map(Number);
const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? '5');
/** Ids of the rows to run (e.g. gateway-on,triton-http), to study one comparison; default all. */
const ONLY = process.env['BENCH_TARGETS']?.split(',').map((id) => id.trim());
const WARMUP_S = 1;
const WARMUP_JIT_S = 2;
const WARMUP_CONCURRENCY = 16;
const RESULTS_DIR = process.env['BENCH_RESULTS_DIR'] ?? join(REPO_ROOT, 'bench', 'results');
const MODEL = 'digits';
const INFER_PATH = `/v2/models/${MODEL}/infer`;


interface Target {
  readonly id: string;
  readonly label: string;
  load(connections: number, durationS: number): Promise<LoadResult>;
  /** Processes whose CPU serves the requests (trees: Triton's backend stubs count). */
  servingPids(): number[];
  /** The process a user would size a pod for (the front server's tree). */
  frontPids(): number[];
}

interface Cell extends LoadResult {
  readonly target: string;
  readonly concurrency: number;
  readonly cpuMsPerRequest: number;
  readonly peakRssMiB: number;
}

const jsonRequest = { body: digitsJsonBody, headers: { 'content-type': 'application/json' } };
const binaryRequest = buildInferRequest({
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: digitsPixels, binary: true }],
  outputs: [{ name: 'probabilities', binary: true }, { name: 'label', binary: true }],
});

function httpTarget(id: string, label: string, url: string, request: { body: Buffer | string; headers: Record<string, string> }, serving: () => number[], front: () => number[]): Target {
  return {
    id,
    label,
    load: (connections, durationS) => httpLoad({ url: `${url}${INFER_PATH}`, body: request.body, headers: request.headers, connections, durationS }),
    servingPids: serving,
    frontPids: front,
  };
}

async function measure(target: Target, concurrency: number): Promise<Cell> {
  await target.load(concurrency, WARMUP_S);
  const serving = target.servingPids();
  const front = target.frontPids();
  resetPeakRss(front);
  const cpuBefore = cpuSeconds(serving);
  const result = await target.load(concurrency, DURATION_S);
  const cpu = cpuSeconds(serving) - cpuBefore;
  return {
    ...result,
    target: target.id,
    concurrency,
    cpuMsPerRequest: result.completed === 0 ? Number.NaN : (cpu * 1000) / result.completed,
    peakRssMiB: peakRssMiB(front),
  };
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function report(targets: readonly Target[], cells: readonly Cell[], header: string): string {
  const cell = (target: string, concurrency: number): Cell | undefined => cells.find((c) => c.target === target && c.concurrency === concurrency);
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !(b > 0) ? 'n/a' : `${fixed(a / b, 2)}`);
  const lines = [header, '', '| concurrency | server | req/s | p50 ms | p99 ms | failed | server CPU ms / req | peak RSS MiB |', '|---:|---|---:|---:|---:|---:|---:|---:|'];
  for (const concurrency of CONCURRENCIES) {
    for (const target of targets) {
      const c = cell(target.id, concurrency);
      if (c === undefined) continue;
      lines.push(`| ${concurrency} | ${target.label} | ${fixed(c.requestsPerSecond, 0)} | ${fixed(c.p50Ms, 2)} | ${fixed(c.p99Ms, 2)} | ${c.failed} | ${fixed(c.cpuMsPerRequest, 3)} | ${fixed(c.peakRssMiB, 0)} |`);
    }
  }
  const others = targets.filter((t) => t.id !== 'gateway-on' && t.id !== 'gateway-on-binary');
  // Binary is compared with binary: the gateway's binary row against Triton's.
  const gatewayAgainst = (other: string): string => (other === 'triton-http-binary' ? 'gateway-on-binary' : 'gateway-on');
  const versus = (pick: (c: Cell) => number): string[] =>
    CONCURRENCIES.map((concurrency) => {
      const columns = others.map((t) => {
        const gateway = cell(gatewayAgainst(t.id), concurrency);
        const other = cell(t.id, concurrency);
        return ratio(gateway && pick(gateway), other && pick(other));
      });
      return `| ${concurrency} | ${columns.join(' | ')} |`;
    });
  const head = `| concurrency | ${others.map((t) => `/ ${t.label}`).join(' | ')} |`;
  const rule = `|---:|${others.map(() => '---:').join('|')}|`;
  lines.push('', 'Throughput of the gateway (batching on, JSON) divided by each (the binary column: gateway binary / Triton HTTP binary); above 1 the gateway is faster:', '', head, rule, ...versus((c) => c.requestsPerSecond));
  lines.push('', 'p99 latency of the gateway divided by each; below 1 the gateway is faster:', '', head, rule, ...versus((c) => c.p99Ms));
  lines.push('', 'Server CPU per request of the gateway (its process plus Triton\'s) divided by each:', '', head, rule, ...versus((c) => c.cpuMsPerRequest));
  return lines.join('\n');
}

/** What main() started, stopped last first: at the end, on a failure, or when the run is interrupted. */
const stops: (() => Promise<void>)[] = [];

async function stopAll(): Promise<void> {
  for (let stop = stops.pop(); stop !== undefined; stop = stops.pop()) {
    await stop().catch((error: unknown) => process.stderr.write(`bench: cleanup: ${String(error)}\n`));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}: stopping the servers\n`);
    void stopAll().finally(() => process.exit(1));
  });
}

async function main(): Promise<void> {
  const started = new Date();
  const gatewayEnv = benchGatewayEnv();
  const [, fastApiPython] = await Promise.all([provisionTriton(), provisionFastApiPeer()]);
  const twin = await createTwinRepository({ models: { [MODEL]: [2] } });
  const launcher = tritonLauncher();
  const triton = await launcher.launch({ repository: twin.path, modelControl: 'none' });
  stops.push(async () => twin.remove(), async () => triton.stop());
  try {
    await triton.waitReady(60_000);
    const tritonPid = findProcess((args) => (args[0] ?? '').endsWith('tritonserver') && args.some((arg) => arg.includes(twin.path)));
    if (tritonPid === undefined) throw new Error('bench: cannot find the tritonserver process (is TRITON_TEST_IMAGE set? the bench runs the local one)');
    const tritonTree = (): number[] => processTree(tritonPid);

    // The product's defaults, not the tests' quick timeouts; the image's heap settings.
    const base = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SERVED_MODELS: MODEL, ...gatewayEnv };
    const gateways: GatewayProcess[] = [];
    const startGateway = async (address: string | undefined, env: Record<string, string>): Promise<GatewayProcess> => {
      const gateway = await startGatewayProcess(address, env, 'dist/gateway/main.js', base);
      gateways.push(gateway);
      stops.push(async () => {
        gateway.child.kill('SIGTERM');
        await gateway.exited;
      });
      return gateway;
    };
    const on = await startGateway(triton.grpcAddress, { BATCHING: 'on' });
    const off = await startGateway(triton.grpcAddress, { BATCHING: 'off' });
    const embedded = await startGateway(undefined, { MODEL_REPOSITORY: join(REPO_ROOT, 'model_repository') });
    for (const gateway of gateways) await eventually(async () => (await fetch(`${gateway.url}/ready`)).status === 200, 30_000, 100);
    const fastApi = await startFastApiPeer({ python: fastApiPython, port: (await freePorts(1))[0] ?? 0, modelPath: join(REPO_ROOT, 'model_repository', MODEL, '2', 'model.onnx') });
    stops.push(() => fastApi.stop());
    const echo = await startExpressEcho();
    stops.push(() => echo.stop());

    const pidOf = (gateway: GatewayProcess): number => gateway.child.pid ?? 0;
    const viaTriton = (gateway: GatewayProcess) => (): number[] => [pidOf(gateway), ...tritonTree()];
    const own = (pid: number) => (): number[] => processTree(pid);
    const allTargets: Target[] = [
      httpTarget('triton-http', 'Triton HTTP, direct', triton.httpUrl, jsonRequest, tritonTree, tritonTree),
      {
        id: 'triton-grpc',
        label: 'Triton gRPC, direct',
        load: (connections, durationS) => grpcLoad({ address: triton.grpcAddress, connections, durationS, model: MODEL, request: digitsInferRequest(Float32Array.from(digitsPixels)) }),
        servingPids: tritonTree,
        frontPids: tritonTree,
      },
      httpTarget('gateway-on', 'gateway, batching on', on.url, jsonRequest, viaTriton(on), own(pidOf(on))),
      httpTarget('gateway-off', 'gateway, batching off', off.url, jsonRequest, viaTriton(off), own(pidOf(off))),
      httpTarget('gateway-embedded', 'gateway, embedded ONNX Runtime', embedded.url, jsonRequest, own(pidOf(embedded)), own(pidOf(embedded))),
      httpTarget('fastapi', 'FastAPI + onnxruntime (Python)', fastApi.url, jsonRequest, own(fastApi.pid), own(fastApi.pid)),
      httpTarget('express-echo', 'express JSON echo', echo.url, jsonRequest, own(echo.pid), own(echo.pid)),
      httpTarget('gateway-on-binary', 'gateway, batching on, binary', on.url, binaryRequest, viaTriton(on), own(pidOf(on))),
      httpTarget('triton-http-binary', 'Triton HTTP, direct, binary', triton.httpUrl, binaryRequest, tritonTree, tritonTree),
    ];
    const targets = ONLY === undefined ? allTargets : allTargets.filter((target) => ONLY.includes(target.id));
    // JIT warm-up of every server before anything is measured.
    for (const target of targets) await target.load(WARMUP_CONCURRENCY, WARMUP_JIT_S);

    const cells: Cell[] = [];
    for (const [round, concurrency] of CONCURRENCIES.entries()) {
      // Rotate who goes first at each concurrency so a drifting machine favours no one.
      const order = [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)];
      for (const target of order) {
        const measured = await measure(target, concurrency);
        cells.push(measured);
        process.stderr.write(`bench: ${target.label}, concurrency ${concurrency}: ${fixed(measured.requestsPerSecond, 0)} req/s, p99 ${fixed(measured.p99Ms, 2)} ms\n`);
      }
    }

    const header = [
      `\`npm run bench\`, ${started.toISOString().slice(0, 10)}, on ${availableParallelism()} CPUs: ${DURATION_S} s per cell after ${WARMUP_S} s warm-up, model ${MODEL} v2, one row per request.`,
      `Triton: ${launcher.description}. Gateways: the compiled build, default settings except ${describeGatewayEnv(gatewayEnv)} (the image's process environment, plus BENCH_GATEWAY_ENV).`,
    ].join('\n');
    const markdown = report(targets, cells, header);
    const chart = renderChart(
      `npm run bench, ${started.toISOString().slice(0, 10)}, ${availableParallelism()} CPUs, model ${MODEL}, one row per request`,
      CONCURRENCIES,
      targets.map((target) => ({
        label: target.label,
        throughput: CONCURRENCIES.map((c) => cells.find((cell) => cell.target === target.id && cell.concurrency === c)?.requestsPerSecond ?? Number.NaN),
        p99Ms: CONCURRENCIES.map((c) => cells.find((cell) => cell.target === target.id && cell.concurrency === c)?.p99Ms ?? Number.NaN),
      })),
    );
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'performance.md'), `${markdown}\n`);
    writeFileSync(join(RESULTS_DIR, 'performance.svg'), chart);
    process.stdout.write(`${markdown}\n\nwritten: ${join(RESULTS_DIR, 'performance.md')}, ${join(RESULTS_DIR, 'performance.svg')}\n`);
  } finally {
    await stopAll();
  }
}

await main();
