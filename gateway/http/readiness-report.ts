// Readiness as the probes see it: Triton ready, every served model ready, breaker not open, not
// draining. Built from memory only (the readiness monitor polls in the background). It names checks,
// never hosts, addresses or upstream error texts (those are in the log).
import type { Backend } from '../backends/backend.ts';
import type { ReadinessMonitor } from '../models/readiness-monitor.ts';
import type { DrainGate } from './drain-gate.ts';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly reasons: readonly string[];
  readonly checks: {
    readonly backend: Backend['kind'];
    readonly server: 'ready' | 'not ready' | 'unknown';
    readonly models: Readonly<Record<string, 'ready' | 'not ready'>>;
    readonly breaker: string;
    readonly draining: boolean;
    readonly checkedAt: string | null;
  };
}

export function readinessReport(backend: Backend, monitor: ReadinessMonitor, gate: DrainGate): ReadinessReport {
  const snapshot = monitor.snapshot;
  const reasons: string[] = [];
  if (gate.draining) reasons.push('gateway is draining (shutting down)');
  if (snapshot.serverReady !== true) reasons.push(snapshot.serverProblem ?? 'triton not ready');
  const linkState = backend.linkState();
  if (linkState === 'open') reasons.push('circuit breaker to triton is open');
  const models: Record<string, 'ready' | 'not ready'> = {};
  for (const [model, ready] of snapshot.models) {
    models[model] = ready ? 'ready' : 'not ready';
    if (!ready) reasons.push(`model "${model}" has no ready version`);
  }
  // A gateway with nothing to serve (every model failed, or an empty repository) takes no traffic.
  if (snapshot.serverReady === true && snapshot.models.size === 0) reasons.push('no model is served');
  return {
    ready: reasons.length === 0,
    reasons,
    checks: {
      backend: backend.kind,
      server: snapshot.serverReady === undefined ? 'unknown' : snapshot.serverReady ? 'ready' : 'not ready',
      models,
      breaker: linkState,
      draining: gate.draining,
      checkedAt: snapshot.checkedAt === undefined ? null : new Date(snapshot.checkedAt).toISOString(),
    },
  };
}
