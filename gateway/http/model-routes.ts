// Server and model metadata, model readiness and config, and the repository index: answered from the
// model catalog (cached) or from Triton (live), never invented here.
import express from 'express';
import type { Request, Response, Router } from 'express';
import { repositoryIndexRequestSchema } from '../contract/infer-response-schema.ts';
import { GatewayError, unknownModel } from '../errors.ts';
import { parseJsonBody } from './json-body.ts';
import { controlDeadline, modelTarget } from './model-target.ts';
import { locals } from './request-context.ts';
import type { HttpServices } from './services.ts';
import { formatZodIssues } from './zod-issues.ts';

/** Protocol extensions the gateway serves itself (shared memory, statistics, trace, logging are not). */
const GATEWAY_EXTENSIONS = new Set(['classification', 'model_repository', 'model_configuration', 'binary_tensor_data', 'parameters', 'schedule_policy', 'sequence']);

export const MODEL_PATH = '/v2/models/:model{/versions/:version}';

export function registerModelRoutes(router: Router, services: HttpServices): void {
  const { backend, catalog, config } = services;

  router.get('/v2', async (_req: Request, res: Response) => {
    locals(res).route = 'server_metadata';
    const metadata = await backend.serverMetadata(controlDeadline(config.TRITON_CONTROL_TIMEOUT_MS));
    // Advertise only what a client can really use through the gateway.
    res.json({ ...metadata, extensions: metadata.extensions.filter((extension) => GATEWAY_EXTENSIONS.has(extension)) });
  });

  router.get(MODEL_PATH, async (req: Request, res: Response) => {
    const target = modelTarget(req);
    locals(res).route = 'model_metadata';
    const signature = await catalog.signature(target.model, target.version);
    locals(res).model = target.model;
    res.json(signature.metadata);
  });

  router.get(`${MODEL_PATH}/ready`, async (req: Request, res: Response) => {
    const target = modelTarget(req);
    locals(res).route = 'model_ready';
    const deadline = controlDeadline(config.TRITON_CONTROL_TIMEOUT_MS);
    const ready = await backend.modelReady(target.model, target.version, deadline);
    // Triton answers ready=false (not NOT_FOUND) for a model or version it has never heard of; the
    // repository index tells "unknown" (404) from "known but not ready" (503).
    if (!ready) {
      const index = await backend.repositoryIndex(false, deadline);
      const known = index.some((entry) => entry.name === target.model && (target.version === '' || entry.version === target.version));
      if (!known) throw unknownModel(target.model, target.version);
    }
    locals(res).model = target.model;
    res.status(ready ? 200 : 503).json({ name: target.model, ...(target.version ? { version: target.version } : {}), ready });
  });

  router.get(`${MODEL_PATH}/config`, async (req: Request, res: Response) => {
    const target = modelTarget(req);
    locals(res).route = 'model_config';
    const signature = await catalog.signature(target.model, target.version);
    locals(res).model = target.model;
    res.json(signature.config);
  });

  router.post('/v2/repository/index', jsonOrEmpty(Math.min(config.BODY_LIMIT_BYTES, CONTROL_BODY_LIMIT_BYTES)), async (req: Request, res: Response) => {
    locals(res).route = 'repository_index';
    const raw = rawBody(req);
    const body = raw.length === 0 ? {} : parseJsonBody(raw, config.MAX_JSON_DEPTH);
    const parsed = repositoryIndexRequestSchema.safeParse(body);
    if (!parsed.success) throw new GatewayError('INVALID_REQUEST', formatZodIssues(parsed.error.issues));
    const index = await backend.repositoryIndex(parsed.data.ready ?? false, controlDeadline(config.TRITON_CONTROL_TIMEOUT_MS));
    // Like Triton's own REST index: empty fields are left out (a model never loaded has no version or state).
    res.json(
      index.map(({ name, version, state, reason }) => ({
        name,
        ...(version ? { version } : {}),
        ...(state ? { state } : {}),
        ...(reason ? { reason } : {}),
      })),
    );
  });
}

/**
 * Control requests carry a few fields ({"ready": true}); a larger body is refused before it is read,
 * never parsed on the event loop, whatever BODY_LIMIT_BYTES allows for infer requests.
 */
export const CONTROL_BODY_LIMIT_BYTES = 64 * 1024;

/** A raw body reader for small JSON bodies that may also be empty. */
export function jsonOrEmpty(limit: number) {
  return express.raw({ type: () => true, limit });
}

/** The bytes jsonOrEmpty read (none when the request had no body). */
function rawBody(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}
