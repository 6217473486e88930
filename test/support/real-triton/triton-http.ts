// Triton's own HTTP API, one request per fresh connection that is closed after the answer. Triton's
// graceful stop waits (up to --exit-timeout-secs) for open HTTP connections, so fetch()'s keep-alive
// pool would make every stop() slow and end in "Exit timeout expired".
import { request as httpRequest } from 'node:http';

export interface TritonHttpAnswer {
  /** 0 when no answer came (refused, timed out); `body` then says why. */
  readonly status: number;
  readonly body: string;
}

export function tritonHttp(baseUrl: string, method: string, path: string, body?: unknown, timeoutMs = 5_000): Promise<TritonHttpAnswer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
    const headers: Record<string, string | number> = { connection: 'close' };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
    const request = httpRequest(`${baseUrl}${path}`, { method, agent: false, headers, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on('error', (error) => resolve({ status: 0, body: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: 0, body: error.message }));
    request.end(payload);
  });
}

const WAIT_POLL_MS = 50;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Polls GET `path` until it answers 200. `gone()` says why the server cannot answer any more (it exited),
 * which ends the wait at once. Resolves with undefined on success, else with why it gave up.
 */
export async function waitForHttpOk(baseUrl: string, path: string, timeoutMs: number, gone: () => string | undefined): Promise<string | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const reason = gone();
    if (reason !== undefined) return `tritonserver is not running (${reason})`;
    const probe = await tritonHttp(baseUrl, 'GET', path, undefined, PROBE_TIMEOUT_MS);
    if (probe.status === 200) return undefined;
    if (Date.now() > until) {
      const last = probe.status === 0 ? probe.body : `HTTP ${probe.status} ${probe.body.slice(0, 500)}`;
      return `no 200 from ${path} within ${timeoutMs} ms (last answer: ${last})`;
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}
