// Server and model metadata, model readiness and config, and the repository index: answered from the
// model catalog (cached) or from Triton (live), never invented here.
import express from 'express';
import type { Request, Response, Router } from 'express';
import { repositoryIndexRequestSchema } from '../contract/infer-response-schema.ts';
import { GatewayError } from '../errors.ts';
import { parseJsonBody } from './json-body.ts';
import { controlDeadline, modelTarget } from './model-target.ts';
import { locals } from './request-context.ts';
import { rawBody } from './infer-body.ts';
import type { HttpServices } from './services.ts';
import { formatZodIssues } from './zod-issues.ts';

export const MODEL_PATH = '/v2/models/:model{/versions/:version}';

export function registerModelRoutes(router: Router, services: HttpServices): void {
  const { backend, catalog, config } = services;

  router.get('/v2', async (_req: Request, res: Response) => {
    locals(res).route = 'server_metadata';
    res.json(await backend.serverMetadata(controlDeadline(config.TRITON_CONTROL_TIMEOUT_MS)));
  });

  router.get(MODEL_PATH, async (req: Request, res: Response) => {
    const target = modelTarget(req);
    Object.assign(locals(res), { route: 'model_metadata', model: target.model });
    res.json((await catalog.signature(target.model, target.version)).metadata);
  });

  router.get(`${MODEL_PATH}/ready`, async (req: Request, res: Response) => {
    const target = modelTarget(req);
    Object.assign(locals(res), { route: 'model_ready', model: target.model });
    const ready = await backend.modelReady(target.model, target.version, controlDeadline(config.TRITON_CONTROL_TIMEOUT_MS));
    res.status(ready ? 200 : 503).json({ name: target.model, ...(target.version ? { version: target.version } : {}), ready });
  });

  router.get(`${MODEL_PATH}/config`, async (req: Request, res: Response) => {
    const target = modelTarget(req);
    Object.assign(locals(res), { route: 'model_config', model: target.model });
    res.json((await catalog.signature(target.model, target.version)).config);
  });

  router.post('/v2/repository/index', jsonOrEmpty(config.BODY_LIMIT_BYTES), async (req: Request, res: Response) => {
    locals(res).route = 'repository_index';
    const raw = rawBody(req);
    const body = raw.length === 0 ? {} : parseJsonBody(raw, config.MAX_JSON_DEPTH);
    const parsed = repositoryIndexRequestSchema.safeParse(body);
    if (!parsed.success) throw new GatewayError('INVALID_REQUEST', formatZodIssues(parsed.error.issues));
    res.json(await backend.repositoryIndex(parsed.data.ready ?? false, controlDeadline(config.TRITON_CONTROL_TIMEOUT_MS)));
  });
}

/** A raw body reader for small JSON bodies that may also be empty. */
export function jsonOrEmpty(limit: number) {
  return express.raw({ type: () => true, limit });
}
