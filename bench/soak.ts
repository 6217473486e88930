// The soak, the last part of `npm run bench` (alone: npm run bench:soak): the gateway as the image ships it (its process environment: V8's and glibc's
// allocator settings; default settings, batching on) in front of the test Triton, under a constant
// closed-loop load (SOAK_CONCURRENCY, default 128) for SOAK_DURATION_S (default 600). Every
// SAMPLE_INTERVAL_S it samples the gateway's resident memory, and every SOAK_LARGE_INTERVAL_S (default
// 30) it sends the largest JSON body the limits allow (BODY_LIMIT_BYTES of numbers, refused by
// validation after parsing): that must be answered 4xx, not crash the process. The verdict: peak RSS,
// and growth as the last minute's median RSS against the first minute's after warm-up.
import { readFileSync } from 'node:fs';
import { httpLoad } from './load/http-load.ts';
import { benchGatewayEnv, describeGatewayEnv, digitsJsonBody } from './settings.ts';
import { eventually } from '../test/support/gateway-harness.ts';
import { startGatewayProcess } from '../test/support/gateway-process.ts';
import { provisionTriton } from '../test/support/real-triton/provision.ts';
import { tritonLauncher } from '../test/support/real-triton/triton-server.ts';
import { createTwinRepository } from '../test/support/real-triton/twin-repository.ts';

const DURATION_S = Number(process.env['SOAK_DURATION_S'] ?? '600');
const CONCURRENCY = Number(process.env['SOAK_CONCURRENCY'] ?? '128');
/** Every 5 s; shorter runs (npm run bench's smoke test) sample often enough to have a series. */
const SAMPLE_INTERVAL_S = Math.min(5, DURATION_S / 6);
/** The RSS series is printed with at most this many points (a 10-minute soak: one per 30 s). */
const RSS_SERIES_POINTS = 20;
/** 0 = no largest bodies (to tell their effect on memory from the steady load's). */
const LARGE_REQUEST_INTERVAL_S = Number(process.env['SOAK_LARGE_INTERVAL_S'] ?? '30');
const WARMUP_S = Math.min(30, DURATION_S / 6);
const WINDOW_S = Math.min(60, DURATION_S / 4);
const BODY_LIMIT_BYTES = 32 * 1024 * 1024;
const KIB_PER_MIB = 1024;

/** NaN once the process is gone: a gateway that died must still get its verdict printed. */
function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? Number.NaN) / KIB_PER_MIB;
  } catch {
    return Number.NaN;
  }
}


/** A JSON body just under BODY_LIMIT_BYTES: one FP32 tensor of as many numbers as fit. */
function largestBody(): string {
  const head = '{"inputs":[{"name":"pixels","datatype":"FP32","shape":[1,64],"data":[';
  const tail = ']}]}';
  const number = '1.234567';
  // Each number takes its digits and a comma.
  const count = Math.floor((BODY_LIMIT_BYTES - head.length - tail.length) / (number.length + 1));
  return `${head}${Array.from({ length: count }, () => number).join(',')}${tail}`;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** "0s 120, 30s 131, ...": every k-th sample, so the whole run fits one line. */
function rssSeries(samples: readonly { atS: number; rssMiB: number }[]): string {
  const stride = Math.max(1, Math.ceil(samples.length / RSS_SERIES_POINTS));
  return samples
    .filter((_, index) => index % stride === 0 || index === samples.length - 1)
    .map((sample) => `${Number(sample.atS.toFixed(1))}s ${sample.rssMiB.toFixed(0)}`)
    .join(', ');
}

async function main(): Promise<void> {
  await provisionTriton();
  const twin = await createTwinRepository({ models: { digits: [2] } });
  const triton = await tritonLauncher().launch({ repository: twin.path, modelControl: 'none' });
  const gatewayEnv = benchGatewayEnv();
  try {
    await triton.waitReady(60_000);
    const gateway = await startGatewayProcess(triton.grpcAddress, { SERVED_MODELS: 'digits' }, 'dist/gateway/main.js', { PORT: '0', HOST: '127.0.0.1', ...gatewayEnv });
    try {
      await eventually(async () => (await fetch(`${gateway.url}/ready`)).status === 200, 30_000, 100);
      const pid = gateway.child.pid ?? 0;
      const body = digitsJsonBody;
      const large = largestBody();
      const samples: { atS: number; rssMiB: number }[] = [];
      const largeAnswers = new Map<number, number>();
      const start = Date.now();
      const sampler = setInterval(() => samples.push({ atS: (Date.now() - start) / 1000, rssMiB: rssMiB(pid) }), SAMPLE_INTERVAL_S * 1000);
      const largeSender = setInterval(() => {
        if (LARGE_REQUEST_INTERVAL_S === 0) return;
        void fetch(`${gateway.url}/v2/models/digits/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: large })
          .then(async (answer) => {
            await answer.arrayBuffer();
            largeAnswers.set(answer.status, (largeAnswers.get(answer.status) ?? 0) + 1);
          })
          .catch(() => largeAnswers.set(0, (largeAnswers.get(0) ?? 0) + 1));
      }, (LARGE_REQUEST_INTERVAL_S || DURATION_S) * 1000);
      const load = await httpLoad({ url: `${gateway.url}/v2/models/digits/infer`, body, headers: { 'content-type': 'application/json' }, connections: CONCURRENCY, durationS: DURATION_S });
      clearInterval(sampler);
      clearInterval(largeSender);
      // A V8 out-of-memory abort (SIGABRT) or the kernel's OOM killer (SIGKILL) leaves exitCode null.
      const exitedEarly = gateway.child.exitCode !== null || gateway.child.signalCode !== null;
      const first = samples.filter((s) => s.atS >= WARMUP_S && s.atS < WARMUP_S + WINDOW_S).map((s) => s.rssMiB);
      const last = samples.filter((s) => s.atS >= DURATION_S - WINDOW_S).map((s) => s.rssMiB);
      const peak = Math.max(...samples.map((s) => s.rssMiB));
      const lines = [
        `soak: ${DURATION_S} s at concurrency ${CONCURRENCY}, gateway environment ${describeGatewayEnv(gatewayEnv)}`,
        `requests: ${load.completed} ok (${load.requestsPerSecond.toFixed(0)}/s), p99 ${load.p99Ms.toFixed(1)} ms`,
        `errors: ${load.failed} (answers other than 2xx, timeouts and connection errors of the steady load)`,
        `largest bodies (${(large.length / 1024 / 1024).toFixed(1)} MiB of JSON numbers) every ${LARGE_REQUEST_INTERVAL_S} s: ${largeAnswers.size === 0 ? 'none sent' : [...largeAnswers].map(([status, count]) => `${status === 0 ? 'no answer' : status} x${count}`).join(', ')}`,
        `gateway RSS (sampled every ${SAMPLE_INTERVAL_S} s): peak ${peak.toFixed(0)} MiB; median ${median(first).toFixed(0)} MiB in the first minute after ${WARMUP_S} s, ${median(last).toFixed(0)} MiB in the last minute (growth ${(median(last) - median(first)).toFixed(1)} MiB)`,
        `gateway RSS over time (MiB): ${rssSeries(samples)}`,
        `gateway process: ${exitedEarly ? `EXITED (${String(gateway.child.exitCode ?? gateway.child.signalCode)})` : 'still running'}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (exitedEarly || load.failed > 0 || largeAnswers.has(0)) process.exitCode = 1;
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
  } finally {
    await triton.stop();
    await twin.remove();
  }
}

await main();
