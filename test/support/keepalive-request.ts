// One request on a keep-alive Agent, settled exactly once: the HTTP answer (status, body, whether the
// connection closes), or what happened instead (a refused connection, a socket error under a request
// that was sent, no answer within the guard). The load helpers of the drain and fault tests count these.
import { request } from 'node:http';
import type { Agent } from 'node:http';

export type Reply =
  | { readonly kind: 'answer'; readonly status: number; readonly text: string; readonly closes: boolean }
  /** The connection was refused: the request never reached a server. */
  | { readonly kind: 'refused'; readonly detail: string }
  /** The connection broke under a request that had been sent (ECONNRESET, EPIPE, "socket hang up"...). */
  | { readonly kind: 'socket error'; readonly detail: string }
  | { readonly kind: 'no answer'; readonly detail: string };

export interface KeepAliveTarget {
  readonly agent: Agent;
  readonly url: string;
  readonly path: string;
  readonly body: string;
  /** A request without an answer after this long is 'no answer' (and destroyed). */
  readonly guardMs: number;
  /** Called for an answer or error that came for a request already settled (must never happen). */
  readonly onDuplicate?: () => void;
}

export function sendOnKeepAlive(target: KeepAliveTarget): Promise<Reply> {
  const { hostname, port } = new URL(target.url);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (reply: Reply): void => {
      if (settled) {
        target.onDuplicate?.();
        return;
      }
      settled = true;
      clearTimeout(guard);
      resolve(reply);
    };
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(target.body) };
    const req = request({ agent: target.agent, hostname, port, path: target.path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'socket error', detail: `while reading the answer: ${error.code ?? error.message}` }));
      res.on('end', () => {
        const closes = res.headers.connection?.toLowerCase() === 'close';
        settle({ kind: 'answer', status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), closes });
      });
    });
    const guard = setTimeout(() => {
      settle({ kind: 'no answer', detail: `none within ${target.guardMs} ms` });
      req.destroy();
    }, target.guardMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      settle({ kind: code === 'ECONNREFUSED' ? 'refused' : 'socket error', detail: `${code}: ${error.message}` });
    });
    req.end(target.body);
  });
}
