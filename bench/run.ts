// npm run bench: the gateway with batching on and with batching off, side by side against the same real
// Triton (the pip-installed tritonserver serving the Python-backend twin of model_repository/), at
// several concurrencies, in one run. Prints requests/s, p50/p99 latency, the gateway's CPU seconds per
// 1000 requests and its peak RSS, and the on/off ratios. Figures are for comparison within one run on
// one machine, never absolute claims.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import { eventually } from '../test/support/gateway-harness.ts';
import { startGatewayProcess } from '../test/support/gateway-process.ts';
import type { GatewayProcess } from '../test/support/gateway-process.ts';
import { provisionTriton } from '../test/support/real-triton/provision.ts';
import { tritonLauncher } from '../test/support/real-triton/triton-server.ts';
import { createTwinRepository } from '../test/support/real-triton/twin-repository.ts';

const CONCURRENCIES = (process.env['BENCH_CONCURRENCY'] ?? '1,8,32,64,128').split(',').map(Number);
const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? '6');
const WARMUP_S = 1;
const WARMUP_JIT_S = 3;
const WARMUP_CONCURRENCY = 16;
const CLOCK_TICKS_PER_SECOND = 100;
const KIB = 1024;

interface Sample {
  readonly mode: 'on' | 'off';
  readonly concurrency: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
  readonly cpuSecondsPer1000: number;
  readonly peakRssMiB: number;
}

const image = (JSON.parse(readFileSync(new URL('../test/fixtures/digits-sample.json', import.meta.url), 'utf8')) as { images: number[][] }).images[0];
const body = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: image }] });

async function cpuTicks(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function peakRssMiB(pid: number): Promise<number> {
  const match = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / KIB;
}

async function load(url: string, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/v2/models/digits/infer`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
  });
}

async function measure(mode: 'on' | 'off', gateway: GatewayProcess, concurrency: number): Promise<Sample> {
  const pid = gateway.child.pid ?? 0;
  await load(gateway.url, concurrency, WARMUP_S);
  const ticksBefore = await cpuTicks(pid);
  const result = await load(gateway.url, concurrency, DURATION_S);
  const ticks = (await cpuTicks(pid)) - ticksBefore;
  const ok = result.requests.total - result.non2xx;
  return {
    mode,
    concurrency,
    requestsPerSecond: ok / DURATION_S,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuSecondsPer1000: ok === 0 ? Number.NaN : (ticks / CLOCK_TICKS_PER_SECOND / ok) * 1000,
    peakRssMiB: await peakRssMiB(pid),
  };
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  await provisionTriton();
  const twin = await createTwinRepository({ models: { digits: [2] } });
  const launcher = tritonLauncher();
  const triton = await launcher.launch({ repository: twin.path, modelControl: 'none' });
  const gateways: GatewayProcess[] = [];
  try {
    await triton.waitReady(60_000);
    // BENCH_NODE_OPTIONS reaches both gateways, e.g. to compare V8 heap settings.
    const nodeOptions = process.env['BENCH_NODE_OPTIONS'];
    const common = { LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: '30000', SERVED_MODELS: 'digits', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
    // The compiled build, as `npm start` runs it (npm run bench builds it first).
    const on = await startGatewayProcess(triton.grpcAddress, { ...common, BATCHING: 'on' }, 'dist/gateway/main.js');
    const off = await startGatewayProcess(triton.grpcAddress, { ...common, BATCHING: 'off' }, 'dist/gateway/main.js');
    gateways.push(on, off);
    for (const gateway of gateways) await eventually(async () => (await fetch(`${gateway.url}/ready`)).status === 200, 30_000, 100);
    // JIT warm-up of both gateways (and Triton) before anything is measured.
    for (const gateway of gateways) await load(gateway.url, WARMUP_CONCURRENCY, WARMUP_JIT_S);

    const samples: Sample[] = [];
    for (const concurrency of CONCURRENCIES) {
      // Alternate which goes first so a drifting machine does not favour one side.
      const order = samples.length % 4 === 0 ? ([['on', on], ['off', off]] as const) : ([['off', off], ['on', on]] as const);
      for (const [mode, gateway] of order) {
        const sample = await measure(mode, gateway, concurrency);
        samples.push(sample);
        process.stderr.write(`bench: batching ${mode}, concurrency ${concurrency}: ${fixed(sample.requestsPerSecond, 0)} req/s\n`);
      }
    }

    const lines = [
      `duration ${DURATION_S} s per cell after ${WARMUP_S} s warm-up (and ${WARMUP_JIT_S} s at concurrency ${WARMUP_CONCURRENCY} per gateway first); model digits v2 (1 row per request, JSON); ${launcher.description}; NODE_OPTIONS of the gateways: ${process.env['BENCH_NODE_OPTIONS'] ?? '(none)'}`,
      '',
      '| concurrency | batching | req/s | p50 ms | p99 ms | failed | gateway CPU s / 1000 req | gateway peak RSS MiB |',
      '|---:|---|---:|---:|---:|---:|---:|---:|',
      ...samples.map((s) => `| ${s.concurrency} | ${s.mode} | ${fixed(s.requestsPerSecond, 0)} | ${fixed(s.p50Ms)} | ${fixed(s.p99Ms)} | ${s.failures} | ${fixed(s.cpuSecondsPer1000, 3)} | ${fixed(s.peakRssMiB, 0)} |`),
      '',
      '| concurrency | throughput on/off | p99 on/off | CPU per request on/off |',
      '|---:|---:|---:|---:|',
      ...CONCURRENCIES.map((concurrency) => {
        const a = samples.find((s) => s.concurrency === concurrency && s.mode === 'on');
        const b = samples.find((s) => s.concurrency === concurrency && s.mode === 'off');
        if (a === undefined || b === undefined) return `| ${concurrency} | n/a | n/a | n/a |`;
        return `| ${concurrency} | ${fixed(a.requestsPerSecond / b.requestsPerSecond, 2)}x | ${fixed(a.p99Ms / b.p99Ms, 2)}x | ${fixed(a.cpuSecondsPer1000 / b.cpuSecondsPer1000, 2)}x |`;
      }),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const gateway of gateways) {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
    await triton.stop();
    await twin.remove();
  }
}

await main();
