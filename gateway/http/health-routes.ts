// Liveness (never depends on Triton) and readiness (answered from memory), under both the Kubernetes
// style paths and the protocol's /v2/health paths. Readiness answers 503 when false (Triton itself
// answers 400): 503 is what Kubernetes and load balancers read best.
import type { Request, Response, Router } from 'express';
import { locals } from './request-context.ts';
import { readinessReport } from './readiness-report.ts';
import type { HttpServices } from './services.ts';

export function registerHealthRoutes(router: Router, services: HttpServices): void {
  const live = (_req: Request, res: Response): void => {
    locals(res).route = 'live';
    res.status(200).json({ live: true });
  };
  const ready = (_req: Request, res: Response): void => {
    locals(res).route = 'ready';
    const report = readinessReport(services.backend, services.monitor, services.gate);
    services.metrics.ready.set(report.ready ? 1 : 0);
    res.status(report.ready ? 200 : 503).json(report);
  };
  router.get('/health', live);
  router.get('/v2/health/live', live);
  router.get('/ready', ready);
  router.get('/v2/health/ready', ready);
}
