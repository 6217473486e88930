// Keep-alive clients for drain tests: N loops, each on its own socket of one node:http Agent (as a load
// balancer or a pooled client keeps connections open), sending one request after another. Every request
// gets exactly one verdict; a client stops after its first refusal (503, or a socket error), as a real
// client would then go to another replica.
import { Agent, request } from 'node:http';

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
  const { hostname, port } = new URL(options.url);

  const send = (): Promise<Verdict> =>
    new Promise((resolve) => {
      let settled = false;
      const settle = (verdict: Verdict, problem?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        counts[verdict]++;
        if (problem !== undefined) problems.push(`${verdict}: ${problem}`);
        resolve(verdict);
      };
      const req = request({ agent, hostname, port, path: options.path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) => settle('reset', `while reading the answer: ${error.code ?? error.message}`));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) return settle('ok');
          const closes = res.headers.connection?.toLowerCase() === 'close';
          if (res.statusCode === 503 && text.includes('"SHUTTING_DOWN"')) return settle(closes ? 'shutting_down' : 'shutting_down_kept_open', closes ? undefined : text);
          settle('other_status', `${res.statusCode}: ${text.slice(0, 200)}`);
        });
      });
      const guard = setTimeout(() => {
        settle('unanswered', `no answer within ${options.guardMs} ms`);
        req.destroy();
      }, options.guardMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? error.message;
        // ECONNRESET, "socket hang up", EPIPE...: whatever the code, the request got no HTTP answer.
        settle(code === 'ECONNREFUSED' ? 'refused' : 'reset', `${code}: ${error.message}`);
      });
      req.end(options.body);
    });

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
