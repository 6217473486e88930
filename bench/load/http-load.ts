// HTTP load with autocannon: a closed loop of `connections` keep-alive connections, one request each at
// a time. Latencies are taken from autocannon's per-response event in fractional milliseconds (its own
// histogram counts whole milliseconds, too coarse for sub-millisecond answers at concurrency 1).
import autocannon from 'autocannon';
import { summarise } from './load-result.ts';
import type { LoadResult } from './load-result.ts';

export interface HttpLoadOptions {
  readonly url: string;
  readonly body: Buffer | string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly durationS: number;
}

const OK_MIN = 200;
const OK_MAX = 299;

export async function httpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let failed = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        headers: { ...options.headers },
        body: options.body,
        connections: options.connections,
        duration: options.durationS,
      },
      (error: Error | null, finished: autocannon.Result) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= OK_MIN && statusCode <= OK_MAX) latenciesMs.push(responseTimeMs);
      else failed++;
    });
  });
  // autocannon counts a timeout in errors too.
  return summarise(latenciesMs, failed + result.errors, options.durationS);
}
