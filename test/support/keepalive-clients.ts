// Keep-alive clients for drain tests: N loops, each on its own socket of one node:http Agent (as a load
// balancer or a pooled client keeps connections open), sending one request after another. Every request
// gets exactly one verdict; a client stops after its first refusal (503, or a socket error), as a real
// client would then go to another replica.
import { startCountedLoad } from './counted-load.ts';
import type { CountedOutcome } from './counted-load.ts';

export type Verdict =
  /** 200. */
  | 'ok'
  /** 503 SHUTTING_DOWN with Connection: close (the only honest refusal while draining). */
  | 'shutting_down'
  /** 503 SHUTTING_DOWN that keeps the connection open: the client would send its next request there. */
  | 'shutting_down_kept_open'
  /** Any other HTTP status. */
  | 'other_status'
  /** The connection was reset or closed under a request that had been sent (no HTTP answer). */
  | 'reset'
  /** The connection was refused: the request never reached the gateway. */
  | 'refused'
  /** No answer within the guard. */
  | 'unanswered';

export interface Counted {
  readonly counts: Readonly<Record<Verdict, number>>;
  /** Details of the verdicts other than ok and shutting_down (status and body, or error code). */
  readonly problems: readonly string[];
}

export interface KeepAliveLoad {
  /** Requests answered 200 so far. */
  readonly answered: () => number;
  /** Resolves when every client has stopped (after its first refusal, or after stop()). */
  readonly done: Promise<Counted>;
  stop(): void;
}

export interface KeepAliveLoadOptions {
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly clients: number;
  /** A request without an answer after this long is 'unanswered'. */
  readonly guardMs: number;
}

/** The drain test's verdict of one counted outcome. */
function verdictOf(outcome: CountedOutcome): Verdict {
  switch (outcome.kind) {
    case '200':
      return 'ok';
    case '503 SHUTTING_DOWN':
      return outcome.closes ? 'shutting_down' : 'shutting_down_kept_open';
    case 'socket error':
      return 'reset';
    case 'refused':
      return 'refused';
    case 'no answer':
      return 'unanswered';
    default:
      return 'other_status';
  }
}

/** The counted load of counted-load.ts, each client stopping at its first answer other than 200. */
export function startKeepAliveLoad(options: KeepAliveLoadOptions): KeepAliveLoad {
  const load = startCountedLoad({ ...options, stopsAfter: (kind) => kind !== '200' });
  const done = load.done.then((outcomes): Counted => {
    const counts: Record<Verdict, number> = { ok: 0, shutting_down: 0, shutting_down_kept_open: 0, other_status: 0, reset: 0, refused: 0, unanswered: 0 };
    const problems: string[] = [];
    for (const outcome of outcomes) {
      const verdict = verdictOf(outcome);
      counts[verdict]++;
      if (verdict !== 'ok' && verdict !== 'shutting_down') problems.push(`${verdict}: ${outcome.detail}`);
    }
    if (load.duplicates() > 0) problems.push(`${load.duplicates()} answers or errors for requests already settled`);
    return { counts, problems };
  });
  return {
    answered: () => load.outcomes.filter((outcome) => outcome.kind === '200').length,
    done,
    stop: () => void load.stop(),
  };
}
