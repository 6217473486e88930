// The largest bodies the gateway's limits allow, of every kind that is cheap to send and was expensive
// to parse (JSON numbers, nested arrays, short strings, the binary extension, gzip), and a flood that
// keeps a fixed number of them in flight while counting how each was answered.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface FloodBody {
  readonly kind: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Buffer;
}

/** `open` + `item` repeated to fill `limit` bytes + `close`; every item but the last ends in a comma. */
function filled(open: string, item: string, last: string, close: string, limit: number): Buffer {
  const count = Math.floor((limit - open.length - close.length - last.length) / (item.length + 1));
  return Buffer.from(`${open}${`${item},`.repeat(count)}${last}${close}`);
}

/** One body of each kind, each at most `limit` bytes (inflated, for gzip). */
export function maximalBodies(limit: number): FloodBody[] {
  const json = { 'content-type': 'application/json' };
  const numbers = filled('{"inputs":[{"name":"pixels","datatype":"FP32","shape":[64,64],"data":[', '0.123456', '0', ']}]}', limit);
  const nested = filled('{"inputs":[{"name":"pixels","datatype":"FP32","shape":[64,64],"data":[', '[1]', '[1]', ']}]}', limit);
  const strings = filled('{"inputs":[{"name":"text","datatype":"BYTES","shape":[1,1],"data":[', '"ab"', '"ab"', ']}]}', limit);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [64, 64], parameters: { binary_data_size: limit - 1024 } }] }));
  const binary = Buffer.concat([header, Buffer.alloc(limit - 1024, 7)]);
  return [
    { kind: 'numbers', path: '/v2/models/digits/infer', headers: json, bytes: numbers },
    { kind: 'nested', path: '/v2/models/digits/infer', headers: json, bytes: nested },
    { kind: 'strings', path: '/v2/models/text_topic/infer', headers: json, bytes: strings },
    {
      kind: 'binary',
      path: '/v2/models/digits/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      bytes: binary,
    },
    { kind: 'gzip', path: '/v2/models/digits/infer', headers: { ...json, 'content-encoding': 'gzip' }, bytes: gzipSync(numbers) },
  ];
}

/** How one request ended: an HTTP status (with whether Retry-After came), or the socket error with no answer. */
export type FloodOutcome = { readonly status: number; readonly retryAfter: boolean } | { readonly error: string };

/** Sends one body on a fresh connection; an answer that arrives before the upload ends still counts. */
function sendOnce(url: string, body: FloodBody, timeoutMs: number): Promise<FloodOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: FloodOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(`${url}${body.path}`, { method: 'POST', headers: { ...body.headers, 'content-length': String(body.bytes.length) }, agent: false });
    req.setTimeout(timeoutMs, () => {
      settle({ error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    });
    req.on('response', (response) => {
      settle({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] !== undefined });
      response.resume();
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    req.end(body.bytes);
  });
}

/** Keeps `concurrency` requests of `body` in flight until `untilMs` (Date.now clock); every outcome is kept. */
export async function flood(url: string, body: FloodBody, concurrency: number, untilMs: number, timeoutMs: number): Promise<FloodOutcome[]> {
  const outcomes: FloodOutcome[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < untilMs) outcomes.push(await sendOnce(url, body, timeoutMs));
    }),
  );
  return outcomes;
}

/** An answer the flood may get: any 2xx or 4xx, and 429/503 only with Retry-After. Anything else is a fault. */
export function isAcceptable(outcome: FloodOutcome): boolean {
  if ('error' in outcome) return false;
  if (outcome.status === 429 || outcome.status === 503) return outcome.retryAfter;
  return outcome.status >= 200 && outcome.status < 500;
}

/** "status 400 x12, status 503 x3, ECONNRESET x1" */
export function tally(outcomes: readonly FloodOutcome[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    const key = 'error' in outcome ? outcome.error : `status ${outcome.status}${outcome.retryAfter ? ' (Retry-After)' : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${key} x${count}`).join(', ');
}
