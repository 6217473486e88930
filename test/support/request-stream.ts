// A steady stream of requests from a few concurrent clients, each looping until stopped, with the outcome
// of every single request kept (when it started and ended, its status, the version that served it and,
// for a failure, why). For tests that change something under live traffic (a version swap, a failed
// load) and must show that no request was lost while it happened.
import { setTimeout as sleep } from 'node:timers/promises';

/** What one request came to, as the test's own check judged it. */
export interface RequestVerdict {
  readonly status: number;
  /** The model version that served it (the answer's model_version), when there was an answer. */
  readonly version?: string;
  /** Why the request counts as failed (wrong status, wrong outputs...); undefined when it is fine. */
  readonly problem?: string;
}

export interface RequestOutcome extends RequestVerdict {
  readonly client: number;
  readonly seq: number;
  /** Milliseconds since the stream started. */
  readonly startedMs: number;
  readonly endedMs: number;
}

export interface RequestStreamOptions {
  readonly clients: number;
  /** Pause of each client between two of its requests (0 = none). */
  readonly pauseMs: number;
  /** Sends one request and judges its answer; a throw counts as a failed request with the error as problem. */
  readonly send: (client: number, seq: number) => Promise<RequestVerdict>;
}

export class RequestStream {
  readonly #options: RequestStreamOptions;
  readonly #outcomes: RequestOutcome[] = [];
  readonly #startedAt = Date.now();
  #stopping = false;
  readonly #loops: Promise<void>[];

  /** Starts the clients at once. */
  constructor(options: RequestStreamOptions) {
    this.#options = options;
    this.#loops = Array.from({ length: options.clients }, (_, client) => this.#loop(client));
  }

  /** Milliseconds since the stream started: the clock of every outcome. */
  now(): number {
    return Date.now() - this.#startedAt;
  }

  get outcomes(): readonly RequestOutcome[] {
    return this.#outcomes;
  }

  failures(): RequestOutcome[] {
    return this.#outcomes.filter((outcome) => outcome.problem !== undefined);
  }

  /** Outcomes of requests started at or after `startedMs` (stream clock). */
  startedSince(startedMs: number): RequestOutcome[] {
    return this.#outcomes.filter((outcome) => outcome.startedMs >= startedMs);
  }

  /** True when the last `count` finished requests (at least) were all served by `version`. */
  lastServedBy(version: string, count: number): boolean {
    if (this.#outcomes.length < count) return false;
    return this.#outcomes.slice(-count).every((outcome) => outcome.problem === undefined && outcome.version === version);
  }

  /** Lets every client finish its current request, then resolves; safe to call twice. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  async #loop(client: number): Promise<void> {
    for (let seq = 0; !this.#stopping; seq++) {
      const startedMs = this.now();
      let verdict: RequestVerdict;
      try {
        verdict = await this.#options.send(client, seq);
      } catch (error) {
        verdict = { status: 0, problem: error instanceof Error ? error.message : String(error) };
      }
      this.#outcomes.push({ client, seq, startedMs, endedMs: this.now(), ...verdict });
      if (this.#options.pauseMs > 0) await sleep(this.#options.pauseMs);
    }
  }
}

/** Per version, how many requests it served, and the stream times of its first and last answer. */
export function versionTimeline(outcomes: readonly RequestOutcome[]): string {
  const spans = new Map<string, { count: number; first: number; last: number }>();
  for (const outcome of outcomes) {
    const key = outcome.problem === undefined ? `v${outcome.version ?? '?'}` : `failed ${outcome.status}`;
    const span = spans.get(key) ?? { count: 0, first: outcome.endedMs, last: outcome.endedMs };
    span.count += 1;
    span.first = Math.min(span.first, outcome.endedMs);
    span.last = Math.max(span.last, outcome.endedMs);
    spans.set(key, span);
  }
  return [...spans].map(([key, span]) => `${key}: ${span.count} answers, ${span.first}..${span.last} ms`).join('; ');
}
