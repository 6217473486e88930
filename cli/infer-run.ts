// Sends the requests of a run to the gateway, at most `concurrency` at a time, and reports every
// outcome in input order. One failed request never stops the others: each ends as an outcome.
import type { InferOptions } from './cli-options.ts';
import type { InferRequestBody } from './request-file.ts';
import { binaryRequest, INFERENCE_HEADER_CONTENT_LENGTH, jsonRequest, readAnswer } from './wire-format.ts';

/** Codes of failures the gateway did not name itself. */
export const CLIENT_CODES = {
  unreachable: 'UNREACHABLE',
  timeout: 'CLIENT_TIMEOUT',
  encode: 'CLIENT_ENCODE',
  badAnswer: 'BAD_ANSWER',
} as const;

export type Outcome =
  | { readonly index: number; readonly ok: true; readonly status: number; readonly ms: number; readonly answer: Record<string, unknown> }
  | { readonly index: number; readonly ok: false; readonly status: number | null; readonly ms: number; readonly code: string; readonly error: string };

export interface RunSummary {
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly requests_per_second: number;
  readonly latency_ms: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** Failures by code, with the first message seen for each. */
  readonly errors: Readonly<Record<string, { readonly count: number; readonly example: string }>>;
}

export interface RunHooks {
  /** Called once per request, in input order (an outcome waits for the ones before it). */
  onOutcome(outcome: Outcome): void;
  /** Called as soon as any request ends, with the running counts. */
  onProgress(done: number, okCount: number, failedCount: number): void;
}

type RunOptions = Pick<InferOptions, 'url' | 'model' | 'version' | 'binary' | 'concurrency' | 'timeoutMs'>;

export function inferUrl(options: Pick<InferOptions, 'url' | 'model' | 'version'>): URL {
  const version = options.version === undefined ? '' : `/versions/${options.version}`;
  return endpoint(options.url, `v2/models/${encodeURIComponent(options.model)}${version}/infer`);
}

/** `path` under the base URL, keeping any path prefix the base has (a gateway behind a proxy). */
export function endpoint(base: URL, path: string): URL {
  const root = new URL(base.href);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  root.search = '';
  root.hash = '';
  return new URL(path, root);
}

export async function runInfers(requests: readonly InferRequestBody[], options: RunOptions, hooks: RunHooks): Promise<RunSummary> {
  const url = inferUrl(options);
  const started = performance.now();
  const pending = new Map<number, Outcome>();
  const latencies: number[] = [];
  const errors = new Map<string, { count: number; example: string }>();
  let nextToSend = 0;
  let nextToReport = 0;
  let okCount = 0;
  let failedCount = 0;

  const record = (outcome: Outcome): void => {
    if (outcome.ok || outcome.code !== CLIENT_CODES.encode) latencies.push(outcome.ms);
    if (outcome.ok) okCount++;
    else {
      failedCount++;
      const seen = errors.get(outcome.code);
      if (seen === undefined) errors.set(outcome.code, { count: 1, example: outcome.error });
      else seen.count++;
    }
    hooks.onProgress(okCount + failedCount, okCount, failedCount);
    pending.set(outcome.index, outcome);
    for (let ready = pending.get(nextToReport); ready !== undefined; ready = pending.get(nextToReport)) {
      pending.delete(nextToReport);
      nextToReport++;
      hooks.onOutcome(ready);
    }
  };

  const worker = async (): Promise<void> => {
    while (nextToSend < requests.length) {
      const index = nextToSend++;
      const request = requests[index];
      if (request !== undefined) record(await sendOne(url, index, request, options));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, requests.length) }, worker));

  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: requests.length,
    ok: okCount,
    failed: failedCount,
    seconds: round(seconds, 3),
    requests_per_second: seconds > 0 ? round(requests.length / seconds, 1) : 0,
    latency_ms: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? 0 },
    errors: Object.fromEntries(errors),
  };
}

async function sendOne(url: URL, index: number, request: InferRequestBody, options: RunOptions): Promise<Outcome> {
  const wire = options.binary ? binaryRequest(request) : { ok: true as const, value: jsonRequest(request) };
  if (!wire.ok) return { index, ok: false, status: null, ms: 0, code: CLIENT_CODES.encode, error: wire.error };
  const started = performance.now();
  const elapsed = (): number => round(performance.now() - started, 1);
  try {
    const response = await fetch(url, { method: 'POST', headers: wire.value.headers, body: wire.value.body, signal: AbortSignal.timeout(options.timeoutMs) });
    const raw = new Uint8Array(await response.arrayBuffer());
    const answer = readAnswer(raw, response.headers.get(INFERENCE_HEADER_CONTENT_LENGTH));
    const ms = elapsed();
    if (!answer.ok) return { index, ok: false, status: response.status, ms, code: CLIENT_CODES.badAnswer, error: answer.error };
    if (response.ok) return { index, ok: true, status: response.status, ms, answer: answer.value };
    const code = typeof answer.value['code'] === 'string' ? answer.value['code'] : `HTTP_${response.status}`;
    const error = typeof answer.value['error'] === 'string' ? answer.value['error'] : JSON.stringify(answer.value);
    return { index, ok: false, status: response.status, ms, code, error };
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      return { index, ok: false, status: null, ms: elapsed(), code: CLIENT_CODES.timeout, error: `no answer within ${options.timeoutMs} ms` };
    }
    return { index, ok: false, status: null, ms: elapsed(), code: CLIENT_CODES.unreachable, error: describeFetchError(error) };
  }
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND...) is in its cause. */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof AggregateError && cause.errors.length > 0) return cause.errors.map((inner: unknown) => describeFetchError(inner)).join('; ');
  if (cause instanceof Error) return cause.message !== '' ? cause.message : String((cause as NodeJS.ErrnoException).code ?? cause.name);
  return error.message;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
