// Per-request plumbing that every route shares: the request id (kept from X-Request-Id or made here,
// and returned), a child logger carrying it, the drain gate, and the request metrics and log line at
// the end.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { shuttingDown } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { DrainGate } from './drain-gate.ts';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;
const NS_PER_SECOND = 1e9;

export interface RequestLocals {
  log: Logger;
  requestId: string;
  /** Stable route name for metrics (never the raw path, which would explode label cardinality). */
  route: string;
  model: string;
  /** Facts added while serving (batch id...), written on the request's log line. */
  tags: Map<string, string | number>;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}

/** Routes that stay open while draining, so probes and scrapes keep working until the process exits. */
const ALWAYS_OPEN = new Set(['/health', '/ready', '/metrics', '/v2/health/live', '/v2/health/ready']);

export function requestContext(logger: Logger, metrics: GatewayMetrics, gate: DrainGate) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    // node joins a repeated custom header into one string; the type also allows an array, which is refused.
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const context = locals(res);
    context.requestId = requestId;
    // The request's child logger is built on first use: most requests never log (the per-request line
    // is debug), and a pino child costs an allocation and a serialisation on the hot path.
    let child: Logger | undefined;
    Object.defineProperty(context, 'log', {
      get: () => (child ??= logger.child({ reqId: requestId })),
      configurable: true,
      enumerable: true,
    });
    context.route = 'unknown';
    context.model = '';
    context.tags = new Map();

    const gated = !ALWAYS_OPEN.has(req.path);
    if (gated && !gate.tryEnter()) {
      // The error handler reads the rest of the body first, then answers; the connection guard closes it.
      next(shuttingDown());
      return;
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (gated) gate.leave();
      const seconds = Number(process.hrtime.bigint() - started) / NS_PER_SECOND;
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.httpRequests.inc({ route: context.route, method: req.method, status: String(status), model: context.model });
      metrics.httpDuration.observe({ route: context.route, method: req.method, model: context.model }, seconds);
      const level = status >= 500 ? 'warn' : 'debug';
      if (context.log.isLevelEnabled(level)) {
        const fields = { method: req.method, path: req.path, status, ms: Math.round(seconds * 1e6) / 1e3, ...Object.fromEntries(context.tags) };
        context.log[level](fields, 'request done');
      }
    };
    res.on('finish', finish);
    res.on('close', finish);
    next();
  };
}
