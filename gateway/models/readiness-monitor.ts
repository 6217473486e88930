// Readiness as the probes see it, answered from memory: a background poll asks the backend (the
// repository index, ModelReady for every served model, then the backend's own judgement of itself), and
// the report adds what is known at once (the breaker, draining). The poll also tells the model catalog
// when a model's versions change, so cached metadata never outlives a version swap. A poll that missed
// its deadline while the gateway's own event loop stalled proves nothing about the backend: the
// previous answer stands. Nothing here knows one backend's quirks; each backend judges itself.
import { UNLOADED_REASON } from '../backends/backend.ts';
import type { Backend, BackendKind, LinkState, RepositoryEntry } from '../backends/backend.ts';
import { isGatewayError } from '../errors.ts';
import { eventLoopDelay, whenStallsRecorded } from '../observability/event-loop-delay.ts';
import type { Logger } from '../observability/logger.ts';
import type { ModelCatalog } from './model-catalog.ts';

export interface ReadinessMonitorOptions {
  readonly backend: Backend;
  readonly catalog: ModelCatalog;
  readonly intervalMs: number;
  readonly callTimeoutMs: number;
  /** Models that must be ready; undefined = every model in the backend's repository index. */
  readonly servedModels: readonly string[] | undefined;
  readonly logger: Logger;
}

export interface BackendReadiness {
  /** undefined until the first poll has finished. */
  readonly serverReady: boolean | undefined;
  /** Why the server check failed (the backend's reason, or unreachable with the error code): no hosts, no upstream texts. */
  readonly serverProblem: string | undefined;
  readonly models: ReadonlyMap<string, boolean>;
  readonly checkedAt: number | undefined;
}

/** The body of /ready: every failed check named, never hosts, addresses or upstream error texts (those are in the log). */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly reasons: readonly string[];
  readonly checks: {
    readonly backend: BackendKind;
    readonly server: 'ready' | 'not ready' | 'unknown';
    readonly models: Readonly<Record<string, 'ready' | 'not ready'>>;
    readonly breaker: LinkState;
    readonly draining: boolean;
    readonly checkedAt: string | null;
  };
}

export class ReadinessMonitor {
  readonly #options: ReadinessMonitorOptions;
  #snapshot: BackendReadiness = { serverReady: undefined, serverProblem: 'first check pending', models: new Map(), checkedAt: undefined };
  #versionFingerprints = new Map<string, string>();
  readonly #everReady = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #listeners = new Set<(snapshot: BackendReadiness) => void>();

  constructor(options: ReadinessMonitorOptions) {
    this.#options = options;
  }

  get snapshot(): BackendReadiness {
    return this.#snapshot;
  }

  /**
   * Ready when the backend is, every served model has a ready version, there is a model to serve, the
   * breaker is not open and the gateway is not `draining`.
   */
  report(draining: boolean): ReadinessReport {
    const snapshot = this.#snapshot;
    const { backend } = this.#options;
    const reasons: string[] = [];
    if (draining) reasons.push('gateway is draining (shutting down)');
    if (snapshot.serverReady !== true) reasons.push(snapshot.serverProblem ?? `${backend.kind} not ready`);
    const linkState = backend.linkState();
    if (linkState === 'open') reasons.push(`circuit breaker to ${backend.kind} is open`);
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
        draining,
        checkedAt: snapshot.checkedAt === undefined ? null : new Date(snapshot.checkedAt).toISOString(),
      },
    };
  }

  /** Called after every poll; used for the readiness gauge. */
  onChange(listener: (snapshot: BackendReadiness) => void): void {
    this.#listeners.add(listener);
  }

  /** Polls at once, then every interval (a new poll is armed only after the previous one ended). */
  start(): void {
    if (this.#stopped || this.#running !== undefined || this.#timer !== undefined) return;
    this.#schedule(0);
  }

  /** Runs one poll now (tests and start-up use it); concurrent callers share it. */
  pollNow(): Promise<void> {
    this.#running ??= this.#poll().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Safe to call twice. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.pollNow().finally(() => this.#schedule(this.#options.intervalMs));
    }, delayMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    const { backend, callTimeoutMs, logger } = this.#options;
    const options = { deadline: Date.now() + callTimeoutMs };
    const started = performance.now();
    let next: BackendReadiness;
    try {
      const index = await backend.repositoryIndex(false, options);
      this.#noteVersionChanges(index);
      for (const entry of index) if (entry.state === 'READY') this.#everReady.add(entry.name);
      const served = this.#options.servedModels ?? servedFromIndex(index, this.#everReady);
      const checks = await Promise.all(
        served.map(async (model) => [model, await backend.modelReady(model, '', options).catch(() => false)] as const),
      );
      const servedReady = served.length > 0 && checks.every(([, ready]) => ready);
      const server = await backend.serverReadiness({ index, served, servedReady, wasReady: this.#snapshot.serverReady === true }, options);
      next = {
        serverReady: server.ready,
        serverProblem: server.ready ? undefined : server.reason,
        models: new Map(checks),
        checkedAt: Date.now(),
      };
    } catch (error) {
      const code = isGatewayError(error) ? error.code : 'ERROR';
      // (A round of the loop first: right after a stall, the delay monitor may not have recorded it yet.)
      if (code === 'DEADLINE_EXCEEDED' && (await afterTimers(), eventLoopDelay().excusesDeadline(started, callTimeoutMs))) {
        logger.warn({ stallMs: Math.round(eventLoopDelay().maxDelayMsSince(started)), callTimeoutMs }, "readiness poll missed its deadline while the gateway's event loop stalled; previous readiness kept");
        return;
      }
      // The detail (grpc-js's words, Triton's address) is for the log; /ready names the check and the code.
      const problem = `${backend.kind} unreachable`;
      if (this.#snapshot.serverReady !== false) logger.warn({ err: error }, problem);
      next = {
        serverReady: false,
        serverProblem: `${problem} (${code})`,
        models: this.#snapshot.models,
        checkedAt: Date.now(),
      };
    }
    if (next.serverReady !== this.#snapshot.serverReady) {
      logger.info({ serverReady: next.serverReady, problem: next.serverProblem }, 'backend readiness changed');
      // A backend that was away may have come back with other configs under the same versions.
      if (next.serverReady === true && this.#snapshot.serverReady === false) this.#options.catalog.invalidateAll();
    }
    this.#snapshot = next;
    for (const listener of this.#listeners) listener(next);
  }

  #noteVersionChanges(index: readonly RepositoryEntry[]): void {
    const fingerprints = new Map<string, string>();
    for (const entry of index) {
      const previous = fingerprints.get(entry.name) ?? '';
      fingerprints.set(entry.name, `${previous}${entry.version ?? ''}:${entry.state ?? ''};`);
    }
    for (const [model, fingerprint] of fingerprints) {
      const before = this.#versionFingerprints.get(model);
      if (before !== undefined && before !== fingerprint) {
        this.#options.logger.info({ model, versions: fingerprint }, 'model versions changed; metadata cache refreshed');
        this.#options.catalog.invalidate(model);
      }
    }
    for (const model of this.#versionFingerprints.keys()) {
      if (!fingerprints.has(model)) this.#options.catalog.invalidate(model);
    }
    this.#versionFingerprints = fingerprints;
  }
}

function afterTimers(): Promise<void> {
  return new Promise((resolve) => whenStallsRecorded(resolve));
}

/**
 * Every model in the index counts as served, except one an operator unloaded on purpose (explicit model
 * control) or one never loaded at all: requiring those would keep the gateway unready forever.
 */
function servedFromIndex(index: readonly RepositoryEntry[], everReady: ReadonlySet<string>): string[] {
  const served = new Set<string>();
  for (const entry of index) {
    const state = entry.state ?? '';
    if (state === '') continue;
    if (state === 'UNAVAILABLE' && entry.reason === UNLOADED_REASON) continue;
    // A model whose load failed before it ever served is a model never loaded.
    if (state === 'UNAVAILABLE' && (entry.reason ?? '') !== '' && !everReady.has(entry.name)) continue;
    served.add(entry.name);
  }
  return [...served].sort();
}
