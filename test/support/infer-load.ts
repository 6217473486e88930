// Clients for failure tests: many concurrent loops of digits requests against a gateway, each answer (or
// the lack of one) recorded once with its timing, plus a reader for the gateway's Prometheus text.

/** A request that got no answer within this much past its guard is recorded as hung (status HUNG). */
export const HUNG = -1;
/** No HTTP answer at all: connection refused or reset (the detail says which). */
export const NO_ANSWER = 0;

export interface Outcome {
  readonly client: number;
  /** performance.now() when the request was sent and when its answer (or failure) was complete. */
  readonly started: number;
  readonly ended: number;
  /** HTTP status, NO_ANSWER or HUNG. */
  readonly status: number;
  /** The error code of a non-200 answer; 'OK' for a well-formed digits answer; 'BAD_BODY' otherwise. */
  readonly code: string;
  readonly detail: string;
}

/** One 8x8 digit image (64 pixels), the same for every request. */
const PIXELS = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0];
const DIGITS_BODY = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: PIXELS }], outputs: [{ name: 'label' }] });

/** One digits request; never throws, never waits longer than `guardMs`. */
export async function inferDigits(url: string, guardMs: number, client = 0): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: DIGITS_BODY,
      signal: AbortSignal.timeout(guardMs),
    });
    const text = await response.text();
    return { client, started, ended: performance.now(), status: response.status, code: codeOf(response.status, text), detail: text.slice(0, 300) };
  } catch (error) {
    const hung = error instanceof Error && error.name === 'TimeoutError';
    return { client, started, ended: performance.now(), status: hung ? HUNG : NO_ANSWER, code: hung ? 'HUNG' : 'NO_ANSWER', detail: describeError(error) };
  }
}

function codeOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { model_name?: unknown; outputs?: { name?: unknown; data?: unknown }[]; code?: unknown };
    if (status === 200) {
      const label = body.outputs?.find((output) => output.name === 'label');
      return body.model_name === 'digits' && Array.isArray(label?.data) && label.data.length === 1 ? 'OK' : 'BAD_BODY';
    }
    return typeof body.code === 'string' ? body.code : 'NO_CODE';
  } catch {
    return status === 200 ? 'BAD_BODY' : 'NOT_JSON';
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}

export interface Load {
  /** Every outcome so far, in the order they settled. */
  readonly outcomes: readonly Outcome[];
  /** Resolves with all outcomes when every client has finished (stopped, or sent `maxPerClient`). */
  readonly done: Promise<readonly Outcome[]>;
  /** Asks every client to stop after its current request; resolves like `done`. */
  stop(): Promise<readonly Outcome[]>;
}

/**
 * `clients` loops, each sending one digits request after the other until stop() (or `maxPerClient`
 * requests, a bound in case stop() is never reached). Each request is guarded by `guardMs`.
 */
export function startDigitsLoad(url: string, options: { readonly clients: number; readonly guardMs: number; readonly maxPerClient: number }): Load {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const loops = Array.from({ length: options.clients }, async (_unused, client) => {
    for (let sent = 0; !stopped && sent < options.maxPerClient; sent++) {
      outcomes.push(await inferDigits(url, options.guardMs, client));
    }
  });
  const done = Promise.all(loops).then(() => outcomes);
  return {
    outcomes,
    done,
    stop() {
      stopped = true;
      return done;
    },
  };
}

/** "503 CIRCUIT_OPEN x12, 200 OK x40": a short summary for assertion messages. */
export function tally(outcomes: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    const key = `${outcome.status} ${outcome.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${key} x${count}`).join(', ');
}

/** The sum of every series of `name` in Prometheus text whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = new Map<string, string>();
    for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found.set(label[1] ?? '', label[2] ?? '');
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) sum += Number(match[3]);
  }
  return sum;
}
