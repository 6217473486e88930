// What the gateway does to a request's connection beyond the request itself, like nginx's
// client_body_timeout and send_timeout: a body whose bytes stop arriving for BODY_IDLE_TIMEOUT_MS, or
// that is not all in after BODY_TIMEOUT_MS, is answered 408 REQUEST_TIMEOUT and the connection closed; an answer the client stops reading for
// WRITE_TIMEOUT_MS has its connection destroyed, which frees the answer's buffers; and an answer
// written while the gateway drains carries Connection: close, so keep-alive clients reconnect elsewhere.
// Both idle timeouts are the socket's own timer (node refreshes it on every chunk read, and while a
// write makes progress), armed only in their phase: never while the gateway itself is working. The
// answer side lives on the app's response prototype (express's app.response), not in a closure per
// request: a request without a body costs nothing here, and the write timer is armed only when an
// answer's bytes do not all fit the socket at once (small answers never pay for it).
// The headers timeout is node's (server.headersTimeout, set in gateway.ts): it answers 408 itself.
import { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { DrainGate } from './drain-gate.ts';
import { sendError } from './error-response.ts';
import { bodyPending } from './unread-body.ts';

export interface ConnectionGuardOptions {
  readonly metrics: GatewayMetrics;
  readonly bodyIdleTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

export interface AnswerGuardOptions {
  readonly gate: DrainGate;
  readonly metrics: GatewayMetrics;
  readonly writeTimeoutMs: number;
}

/** The body watch of a request whose body is still arriving: ended when the answer starts. */
const stopBodyWatch = Symbol('stopBodyWatch');
/** Set once the write timer of an answer is armed. */
const writeWatched = Symbol('writeWatched');

interface GuardedResponse extends ServerResponse {
  [stopBodyWatch]?: (clearTimer: boolean) => void;
  [writeWatched]?: true;
}

/** The body phase: BODY_IDLE_TIMEOUT_MS between bytes and BODY_TIMEOUT_MS in all; nothing for a bodiless request. */
export function connectionGuard(options: ConnectionGuardOptions) {
  const { metrics, bodyIdleTimeoutMs, bodyTimeoutMs } = options;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (bodyPending(req)) watchBody(req, res);
    next();
  };

  function watchBody(req: Request, res: Response & GuardedResponse): void {
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
      if (res[stopBodyWatch] === undefined) return;
      res[stopBodyWatch] = undefined;
      clearTimeout(bodyTimer);
      req.off('timeout', onBodyIdle).off('end', onBodyEnd);
      res.off('close', onClose);
      // Node keeps the socket's timer at 0 while a request is being served; give it back that way.
      if (clearTimer) req.socket?.setTimeout(0);
    };
    const onBodyEnd = (): void => stopWatchingBody(true);
    const onClose = (): void => stopWatchingBody(false);
    res[stopBodyWatch] = stopWatchingBody;
    const bodyTimer = setTimeout(onBodyTooLong, bodyTimeoutMs).unref();
    req.setTimeout(bodyIdleTimeoutMs, onBodyIdle);
    req.once('end', onBodyEnd);
    res.once('close', onClose);
  }
}

/**
 * The answer phase, installed once on the app's response prototype: Connection: close while draining,
 * and WRITE_TIMEOUT_MS without progress once an answer's bytes wait for the client.
 */
export function guardAnswers(response: ServerResponse, options: AnswerGuardOptions): void {
  const { gate, metrics, writeTimeoutMs } = options;
  const base = ServerResponse.prototype;
  const watchWrites = (res: GuardedResponse): void => {
    // Bytes the kernel did not take at once: from here the socket's timer measures the client (node
    // refreshes it whenever a write makes progress, and replaces it with its keep-alive timer after 'finish').
    if (res[writeWatched] === true || res.destroyed || (res.socket?.writableLength ?? 0) === 0) return;
    res[writeWatched] = true;
    res.setTimeout(writeTimeoutMs, () => {
      metrics.slowClientsCut.inc({ phase: 'write' });
      res.destroy();
    });
  };
  response.writeHead = function (this: GuardedResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    // The last moment a header can be set: every answer passes through writeHead, implicitly or not.
    if (!this.headersSent) {
      if (gate.draining) this.setHeader('Connection', 'close');
      this[stopBodyWatch]?.(true);
    }
    return base.writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  response.write = function (this: GuardedResponse, ...args: Parameters<ServerResponse['write']>) {
    const flushed = base.write.apply(this, args);
    if (!flushed) watchWrites(this);
    return flushed;
  } as ServerResponse['write'];
  response.end = function (this: GuardedResponse, ...args: Parameters<ServerResponse['end']>) {
    const result = base.end.apply(this, args);
    watchWrites(this);
    return result;
  } as ServerResponse['end'];
}
