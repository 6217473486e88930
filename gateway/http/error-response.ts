// Every failed answer goes through here: one JSON form {"error", "code"}, the status from the error
// catalogue, Retry-After where it helps, and never a stack trace. A refusal of a request whose body is
// still arriving settles that body first (unread-body.ts), whichever route refused it.
import type { NextFunction, Request, Response } from 'express';
import { bodyAborted, bodyOverLimit, fixedError, GatewayError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { bodyPending, settleUnreadBody } from './unread-body.ts';
import type { UnreadBodyOptions } from './unread-body.ts';

/** Express and body-parser errors carry a `type` and a `status`; map the ones a client can cause. */
function fromFrameworkError(error: unknown): GatewayError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, limit } = error as { type?: unknown; limit?: unknown };
  switch (type) {
    case 'entity.too.large':
      return bodyOverLimit('larger than', String(limit));
    case 'request.aborted':
      return bodyAborted();
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new GatewayError('INVALID_REQUEST', 'body: its length does not match Content-Length');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'body: unsupported content encoding or charset');
    default: {
      // Other client errors raised by express or its parsers (a path that does not URL-decode, a body
      // that does not inflate) carry a 4xx status; they are the client's, never a 500.
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        const message = error instanceof Error ? error.message : 'bad request';
        return new GatewayError('INVALID_REQUEST', `request: ${message}`);
      }
      return undefined;
    }
  }
}

export function toGatewayError(error: unknown): GatewayError | undefined {
  if (error instanceof GatewayError) return error;
  return fromFrameworkError(error);
}

/**
 * Writes the error now. `closes`: the connection closes after it; by default when the body is still
 * arriving (a timed-out body is not worth waiting for, and the connection cannot carry another request
 * before it ends).
 */
export function sendError(res: Response, error: GatewayError, closes = bodyPending(res.req)): void {
  if (res.headersSent) {
    // A complete answer (a 408 sent while the body reader still waited) is left alone to reach the client.
    if (!res.writableEnded) res.destroy();
    return;
  }
  if (closes) res.setHeader('Connection', 'close');
  if (error.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.retryAfterSeconds));
  res.status(error.status).json({ error: error.message, code: error.code });
}

/** Answers a refusal once what is left of the request's body is settled (see unread-body.ts). */
async function answerRefusal(req: Request, res: Response, error: GatewayError, unreadBody: UnreadBodyOptions): Promise<void> {
  const keepsConnection = await settleUnreadBody(req, res, unreadBody);
  sendError(res, error, !keepsConnection && bodyPending(req));
}

export function errorMiddleware(logger: Logger, unreadBody: UnreadBodyOptions) {
  return async (error: unknown, req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const known = toGatewayError(error);
    if (known !== undefined) {
      await answerRefusal(req, res, known, unreadBody);
      return;
    }
    // A bug of ours: log it with its stack, answer without it.
    (res.locals['log'] as Logger | undefined ?? logger).error({ err: error, path: req.path }, 'unhandled error');
    sendError(res, fixedError('INTERNAL'), false);
  };
}
