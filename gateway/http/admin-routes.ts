// Explicit model control for operators: load and unload a model in Triton. Guarded by a bearer token
// (ADMIN_TOKEN); when no token is configured the endpoints are off.
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import { GatewayError } from '../errors.ts';
import { controlDeadline } from './model-target.ts';
import { locals } from './request-context.ts';
import type { HttpServices } from './services.ts';

const BEARER = /^Bearer\s+(\S+)$/i;

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerAdminRoutes(router: Router, services: HttpServices): void {
  const { config, backend, catalog } = services;
  const token = config.ADMIN_TOKEN;

  const requireAdmin = (req: Request, res: Response, next: NextFunction): void => {
    locals(res).route = 'repository_admin';
    if (token === undefined) {
      next(new GatewayError('ADMIN_DISABLED', 'model control is off: set ADMIN_TOKEN on the gateway to enable it'));
      return;
    }
    const match = BEARER.exec(req.get('authorization') ?? '');
    if (match?.[1] === undefined || !tokenMatches(match[1], token)) {
      res.set('WWW-Authenticate', 'Bearer');
      next(new GatewayError('UNAUTHORIZED', 'header Authorization: a valid "Bearer <ADMIN_TOKEN>" is required'));
      return;
    }
    next();
  };

  for (const action of ['load', 'unload'] as const) {
    router.post(`/v2/repository/models/:model/${action}`, requireAdmin, async (req: Request, res: Response) => {
      const model = (req.params as Record<string, string>)['model'] ?? '';
      const deadline = controlDeadline(config.REQUEST_TIMEOUT_MS);
      const index = await backend.repositoryIndex(false, deadline);
      if (!index.some((entry) => entry.name === model)) throw new GatewayError('MODEL_NOT_FOUND', `model "${model}" is not in Triton's model repository`);
      if (action === 'load') await backend.loadModel(model, deadline);
      else await backend.unloadModel(model, deadline);
      locals(res).model = model;
      catalog.invalidate(model);
      locals(res).log.info({ model, action }, 'model control request done');
      res.status(200).json({});
    });
  }
}
