// Keep-alive clients for drain tests: N loops, each on its own socket of one node:http Agent (as a load
// balancer or a pooled client keeps connections open), sending one request after another. Every request
// gets exactly one verdict; a client stops after its first refusal (503, or a socket error), as a real
// client would then go to another replica.
import { Agent } from 'node:http';
import { sendOnKeepAlive } from './keepalive-request.ts';
import type { Reply } from './keepalive-request.ts';

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

export function startKeepAliveLoad(options: KeepAliveLoadOptions): KeepAliveLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients, maxFreeSockets: options.clients });
  const counts: Record<Verdict, number> = { ok: 0, shutting_down: 0, shutting_down_kept_open: 0, other_status: 0, reset: 0, refused: 0, unanswered: 0 };
  const problems: string[] = [];
  let stopped = false;

  const verdictOf = (reply: Reply): { verdict: Verdict; problem?: string } => {
    switch (reply.kind) {
      case 'answer':
        if (reply.status === 200) return { verdict: 'ok' };
        if (reply.status === 503 && reply.text.includes('"SHUTTING_DOWN"')) {
          return reply.closes ? { verdict: 'shutting_down' } : { verdict: 'shutting_down_kept_open', problem: reply.text };
        }
        return { verdict: 'other_status', problem: `${reply.status}: ${reply.text.slice(0, 200)}` };
      case 'refused':
        return { verdict: 'refused', problem: reply.detail };
      case 'socket error':
        return { verdict: 'reset', problem: reply.detail };
      case 'no answer':
        return { verdict: 'unanswered', problem: reply.detail };
    }
  };
  const send = async (): Promise<Verdict> => {
    const { verdict, problem } = verdictOf(await sendOnKeepAlive({ agent, ...options }));
    counts[verdict]++;
    if (problem !== undefined) problems.push(`${verdict}: ${problem}`);
    return verdict;
  };

  const client = async (): Promise<void> => {
    while (!stopped) {
      const verdict = await send();
      if (verdict !== 'ok') return;
    }
  };
  const done = Promise.all(Array.from({ length: options.clients }, client)).then(() => {
    agent.destroy();
    return { counts: { ...counts }, problems };
  });
  return {
    answered: () => counts.ok,
    done,
    stop: () => {
      stopped = true;
    },
  };
}
