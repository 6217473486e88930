// Explicit model control for operators: load and unload a model through the model catalog. Guarded by a
// bearer token (ADMIN_TOKEN); when no token is configured the endpoints are off. A model the backend does
// not have is a 404; a refusal retrying cannot change (Triton not in explicit model-control mode) is a
// 501 without Retry-After.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import { fixedError, GatewayError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { locals } from './request-context.ts';
import type { HttpServices } from './services.ts';

const BEARER = /^Bearer\s+(\S+)$/i;

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Names the model in a failed load or unload; the backend's own words say what went wrong. */
function explainFailure(error: unknown, action: string, model: string, log: Logger): unknown {
  if (!(error instanceof GatewayError) || error.code === 'MODEL_NOT_FOUND') return error;
  // The client reads the backend's words without server paths or tracebacks; the operator's log keeps them.
  log.warn({ model, action, err: error }, 'model control refused');
  return new GatewayError(error.code, `${action} of model "${model}": ${error.message}`, {
    cause: error,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  });
}

export function registerAdminRoutes(router: Router, services: HttpServices): void {
  const { config, catalog } = services;
  const token = config.ADMIN_TOKEN;

  const requireAdmin = (req: Request, res: Response, next: NextFunction): void => {
    locals(res).route = 'repository_admin';
    if (token === undefined) {
      next(fixedError('ADMIN_DISABLED'));
      return;
    }
    const match = BEARER.exec(req.get('authorization') ?? '');
    if (match?.[1] === undefined || !tokenMatches(match[1], token)) {
      res.set('WWW-Authenticate', 'Bearer');
      next(fixedError('UNAUTHORIZED'));
      return;
    }
    next();
  };

  for (const action of ['load', 'unload'] as const) {
    router.post(`/v2/repository/models/:model/${action}`, requireAdmin, async (req: Request, res: Response) => {
      const model = (req.params as Record<string, string>)['model'] ?? '';
      await (action === 'load' ? catalog.load(model) : catalog.unload(model)).catch((error: unknown) => {
        throw explainFailure(error, action, model, locals(res).log);
      });
      locals(res).model = model;
      locals(res).log.info({ model, action }, 'model control request done');
      res.status(200).json({});
    });
  }
}
