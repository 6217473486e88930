// What the gateway does to a request's connection beyond the request itself, like nginx's
// client_body_timeout and send_timeout: a body whose bytes stop arriving for BODY_IDLE_TIMEOUT_MS, or
// that is not all in after BODY_TIMEOUT_MS, is answered 408 REQUEST_TIMEOUT and the connection closed; an answer the client stops reading for
// WRITE_TIMEOUT_MS has its connection destroyed, which frees the answer's buffers; and an answer
// written while the gateway drains carries Connection: close, so keep-alive clients reconnect elsewhere.
// Both timeouts are the socket's own idle timer (node refreshes it on every chunk read, and while a
// write makes progress), armed only in their phase: never while the gateway itself is working.
// The headers timeout is node's (server.headersTimeout, set in gateway.ts): it answers 408 itself.
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { DrainGate } from './drain-gate.ts';
import { sendError } from './error-response.ts';
import { bodyPending } from './unread-body.ts';

export interface ConnectionGuardOptions {
  readonly gate: DrainGate;
  readonly metrics: GatewayMetrics;
  readonly bodyIdleTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly writeTimeoutMs: number;
}

export function connectionGuard(options: ConnectionGuardOptions) {
  const { gate, metrics, bodyIdleTimeoutMs, bodyTimeoutMs, writeTimeoutMs } = options;
  return (req: Request, res: Response, next: NextFunction): void => {
    let bodyWatched = false;
    let bodyTimer: NodeJS.Timeout | undefined;
    const cutBody = (error: GatewayError): void => {
      stopWatchingBody(false);
      metrics.slowClientsCut.inc({ phase: 'body' });
      sendError(res, error);
    };
    const onBodyIdle = (): void => {
      // Every byte is in, or bytes wait unread in the request's buffer: the gateway is the slow one.
      if (req.complete || req.readableLength > 0) {
        if (req.complete) stopWatchingBody(true);
        else req.socket.setTimeout(bodyIdleTimeoutMs);
        return;
      }
      cutBody(new GatewayError('REQUEST_TIMEOUT', `body: no bytes arrived for ${bodyIdleTimeoutMs} ms (BODY_IDLE_TIMEOUT_MS)`));
    };
    const onBodyTooLong = (): void => {
      if (req.complete) stopWatchingBody(true);
      else cutBody(new GatewayError('REQUEST_TIMEOUT', `body: not all in after ${bodyTimeoutMs} ms (BODY_TIMEOUT_MS)`));
    };
    const stopWatchingBody = (clearTimer: boolean): void => {
      if (!bodyWatched) return;
      bodyWatched = false;
      clearTimeout(bodyTimer);
      req.off('timeout', onBodyIdle);
      req.off('end', onBodyEnd);
      // Node keeps the socket's timer at 0 while a request is being served; give it back that way.
      if (clearTimer) req.socket?.setTimeout(0);
    };
    const onBodyEnd = (): void => stopWatchingBody(true);
    if (bodyPending(req)) {
      bodyWatched = true;
      bodyTimer = setTimeout(onBodyTooLong, bodyTimeoutMs).unref();
      req.setTimeout(bodyIdleTimeoutMs, onBodyIdle);
      req.once('end', onBodyEnd);
    }

    const onWriteStalled = (): void => {
      metrics.slowClientsCut.inc({ phase: 'write' });
      res.destroy();
    };
    beforeHeaders(res, () => {
      if (gate.draining) res.setHeader('Connection', 'close');
      // From here the socket's timer measures the client: the time since its last read of our bytes.
      stopWatchingBody(false);
      res.setTimeout(writeTimeoutMs, onWriteStalled);
    });
    // After 'finish' node arms its keep-alive timer on the socket; only our listener goes.
    res.once('finish', () => res.off('timeout', onWriteStalled));
    res.once('close', () => {
      stopWatchingBody(false);
      res.off('timeout', onWriteStalled);
    });
    next();
  };
}

/**
 * Runs `listener` once, right before the status line and headers go out (the last moment a header can
 * be set): every answer passes through writeHead, implicitly or not.
 */
function beforeHeaders(res: ServerResponse, listener: () => void): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    res.writeHead = writeHead;
    if (!res.headersSent) listener();
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}
