// The express application: request context first, then every route of the public contract, then one
// answer for unknown paths (404) and wrong methods (405), then the one error handler. The gateway's own
// endpoints are here: liveness (never depends on the backend), readiness (answered from memory; 503 when
// false, where Triton itself answers 400: 503 is what Kubernetes and load balancers read best), metrics
// and the OpenAPI document.
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError, noRoute } from '../errors.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { connectionGuard, guardAnswers } from './connection-guard.ts';
import { registerDocsRoute } from './docs-route.ts';
import { errorMiddleware } from './error-response.ts';
import { registerInferRoute } from './infer-route.ts';
import { registerModelRoutes } from './model-routes.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { locals, requestContext } from './request-context.ts';
import type { HttpServices } from './services.ts';

export const GATEWAY_VERSION = '0.1.0';

/** Every path the gateway serves and its methods, to tell 405 (with Allow) from 404. */
const KNOWN_PATHS: readonly { readonly pattern: RegExp; readonly allow: string }[] = [
  { pattern: /^\/(health|ready|metrics|openapi\.json)$/, allow: 'GET, HEAD' },
  { pattern: /^\/docs(\/|\/assets\/[^/]+)?$/, allow: 'GET, HEAD' },
  { pattern: /^\/v2(\/health\/(live|ready))?$/, allow: 'GET, HEAD' },
  { pattern: /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?(\/(ready|config))?$/, allow: 'GET, HEAD' },
  { pattern: /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/, allow: 'POST' },
  { pattern: /^\/v2\/repository\/(index|models\/[^/]+\/(load|unload))$/, allow: 'POST' },
];

function knownPath(path: string): { readonly allow: string } | undefined {
  const known = KNOWN_PATHS.find(({ pattern }) => pattern.test(path));
  return known === undefined ? undefined : { allow: `${known.allow}, OPTIONS` };
}

/** Refusals go to the error handler, which settles a body the client may still be sending. */
function notFound(req: Request, res: Response, next: NextFunction): void {
  locals(res).route = 'not_found';
  next(noRoute(req.method, req.path, '/openapi.json'));
}

/** How long the rest of a refused request's body may keep arriving to be dropped. */
const UNREAD_BODY_LINGER_MS = 5000;

export function createApp(services: HttpServices): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  const openApi = buildOpenApiDocument(GATEWAY_VERSION);
  const router = express.Router({ caseSensitive: true, strict: true });
  guardAnswers(app.response, { gate: services.gate, metrics: services.metrics, writeTimeoutMs: services.config.WRITE_TIMEOUT_MS });
  app.use(
    connectionGuard({
      metrics: services.metrics,
      bodyIdleTimeoutMs: services.config.BODY_IDLE_TIMEOUT_MS,
      bodyTimeoutMs: services.config.BODY_TIMEOUT_MS,
    }),
  );
  app.use(requestContext(services.logger, services.metrics, services.gate));
  // Answered here, as JSON, before the router's own OPTIONS answer (200 text/html listing methods).
  app.options(/.*/, (req: Request, res: Response, next: NextFunction) => {
    const known = knownPath(req.path);
    if (known === undefined) {
      notFound(req, res, next);
      return;
    }
    locals(res).route = 'options';
    res.set('Allow', known.allow).status(204).end();
  });

  // The infer route first: it carries nearly all the traffic, and the router tries routes in order.
  registerInferRoute(router, services);
  const live = (_req: Request, res: Response): void => {
    locals(res).route = 'live';
    res.status(200).json({ live: true });
  };
  const ready = (_req: Request, res: Response): void => {
    locals(res).route = 'ready';
    const report = services.monitor.report(services.gate.draining);
    services.metrics.ready.set(report.ready ? 1 : 0);
    res.status(report.ready ? 200 : 503).json(report);
  };
  router.get('/health', live);
  router.get('/v2/health/live', live);
  router.get('/ready', ready);
  router.get('/v2/health/ready', ready);
  registerModelRoutes(router, services);
  registerAdminRoutes(router, services);
  registerDocsRoute(router);
  router.get('/metrics', async (_req: Request, res: Response) => {
    locals(res).route = 'metrics';
    res.set('Content-Type', services.metrics.registry.contentType);
    res.send(await services.metrics.registry.metrics());
  });
  router.get('/openapi.json', (_req: Request, res: Response) => {
    locals(res).route = 'openapi';
    res.json(openApi);
  });
  app.use(router);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const known = knownPath(req.path);
    if (known !== undefined) {
      locals(res).route = 'method_not_allowed';
      res.set('Allow', known.allow);
      next(new GatewayError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}`));
      return;
    }
    notFound(req, res, next);
  });
  app.use(
    errorMiddleware(services.logger, {
      maxBytes: services.config.BODY_LIMIT_BYTES,
      maxMs: UNREAD_BODY_LINGER_MS,
      draining: () => services.gate.draining,
      answerNow: services.gate.closing,
    }),
  );
  return app;
}
