// Explicit model control for operators: load and unload a model in Triton. Guarded by a bearer token
// (ADMIN_TOKEN); when no token is configured the endpoints are off. A refusal that retrying cannot change
// (Triton not in explicit model-control mode) is a 501 without Retry-After.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import { fixedError, GatewayError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { controlDeadline } from './model-target.ts';
import { locals } from './request-context.ts';
import type { HttpServices } from './services.ts';

const BEARER = /^Bearer\s+(\S+)$/i;

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Names the model in a failed load or unload and, when Triton refuses model control for good, what would make it work. */
function explainFailure(error: unknown, action: string, model: string, log: Logger): unknown {
  if (!(error instanceof GatewayError)) return error;
  // The client reads Triton's words without server paths or tracebacks; the operator's log keeps them.
  log.warn({ model, action, err: error }, 'model control refused');
  const hint = error.code === 'BACKEND_UNSUPPORTED' ? '; Triton allows load and unload only with --model-control-mode=explicit (in poll mode, change the model repository instead)' : '';
  return new GatewayError(error.code, `${action} of model "${model}": ${error.message}${hint}`, {
    cause: error,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  });
}

export function registerAdminRoutes(router: Router, services: HttpServices): void {
  const { config, backend, catalog } = services;
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
      const deadline = controlDeadline(config.REQUEST_TIMEOUT_MS);
      const inRepository = async (): Promise<boolean> =>
        (await backend.repositoryIndex(false, deadline)).some((entry) => entry.name === model);
      const notFound = new GatewayError('MODEL_NOT_FOUND', `model "${model}" is not in the model repository`);
      if (action === 'load') {
        // A model added to disk since the last scan is only found by the load itself; the index tells
        // afterwards whether a failure meant "no such model".
        await backend.loadModel(model, deadline).catch(async (error: unknown) => {
          if (error instanceof GatewayError && error.code === 'MODEL_ERROR' && !(await inRepository())) throw notFound;
          throw explainFailure(error, action, model, locals(res).log);
        });
      } else {
        // Triton answers 200 to unloading a model it does not have; say what really happened.
        if (!(await inRepository())) throw notFound;
        await backend.unloadModel(model, deadline).catch((error: unknown) => {
          throw explainFailure(error, action, model, locals(res).log);
        });
      }
      locals(res).model = model;
      catalog.invalidate(model);
      locals(res).log.info({ model, action }, 'model control request done');
      res.status(200).json({});
    });
  }
}
