// `triton-gateway infer ...`: options, input file, a liveness check of the gateway, the run, and what
// is printed. Returns the exit code: 0 when every request succeeded, 1 otherwise.
import { HELP, parseCliOptions } from './cli-options.ts';
import type { InferOptions } from './cli-options.ts';
import { describeFetchError, endpoint, runInfers } from './infer-run.ts';
import type { Outcome, RunSummary } from './infer-run.ts';
import { startProgressBar } from './progress-bar.ts';
import type { ProgressBar } from './progress-bar.ts';
import { readRequestFile } from './request-file.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
/** The liveness check before a run: quick, and never waits on Triton (the gateway answers it alone). */
const LIVENESS_TIMEOUT_MS = 5000;

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: CliIo): Promise<number> {
  const parsed = parseCliOptions(argv, env);
  if (!parsed.ok) {
    io.stderr.write(`triton-gateway: ${parsed.error}\n`);
    return EXIT_FAILED;
  }
  if (parsed.value.command === 'help') {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  return infer(parsed.value, io);
}

async function infer(options: InferOptions, io: CliIo): Promise<number> {
  const requests = await readRequestFile(options.inputPath);
  if (!requests.ok) {
    io.stderr.write(`triton-gateway: bad input file: ${requests.error}\n`);
    return EXIT_FAILED;
  }
  const unreachable = await checkLive(options);
  if (unreachable !== undefined) {
    io.stderr.write(`triton-gateway: ${unreachable}\n`);
    return EXIT_FAILED;
  }

  const total = requests.value.length;
  const showProgress = options.progress === 'on' || (options.progress === 'auto' && total > 1);
  const bar: ProgressBar | undefined = showProgress ? startProgressBar(total, io.stderr) : undefined;
  let summary: RunSummary;
  try {
    summary = await runInfers(requests.value, options, {
      onOutcome: (outcome) => {
        if (!options.summaryOnly) io.stdout.write(`${JSON.stringify(outcomeLine(outcome))}\n`);
      },
      onProgress: (done, okCount, failedCount) => bar?.update(done, okCount, failedCount),
    });
  } finally {
    bar?.stop();
  }

  if (options.summaryOnly) io.stdout.write(`${JSON.stringify(summary)}\n`);
  io.stderr.write(summaryText(summary));
  return summary.failed === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Says why the gateway cannot be used, or undefined when it answers its liveness probe. */
async function checkLive(options: InferOptions): Promise<string | undefined> {
  const url = endpoint(options.url, 'v2/health/live');
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(LIVENESS_TIMEOUT_MS) });
    await response.arrayBuffer();
    if (response.ok) return undefined;
    return `the gateway at ${options.url.href} is not live: GET ${url.pathname} answered ${response.status}`;
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${LIVENESS_TIMEOUT_MS} ms` : describeFetchError(error);
    return `cannot reach the gateway at ${options.url.href} (${reason}); is it running? (--url or $TRITON_GATEWAY_URL)`;
  }
}

function outcomeLine(outcome: Outcome): Record<string, unknown> {
  if (outcome.ok) return { index: outcome.index, ok: true, status: outcome.status, ms: outcome.ms, answer: outcome.answer };
  return { index: outcome.index, ok: false, status: outcome.status, ms: outcome.ms, code: outcome.code, error: outcome.error };
}

function summaryText(summary: RunSummary): string {
  const noun = summary.requests === 1 ? 'request' : 'requests';
  const lines = [
    `${summary.requests} ${noun}: ${summary.ok} ok, ${summary.failed} failed in ${summary.seconds} s ` +
      `(${summary.requests_per_second}/s; latency p50 ${summary.latency_ms.p50} ms, p99 ${summary.latency_ms.p99} ms)`,
  ];
  for (const [code, { count, example }] of Object.entries(summary.errors)) lines.push(`  ${code} x${count}: ${example}`);
  return `${lines.join('\n')}\n`;
}
