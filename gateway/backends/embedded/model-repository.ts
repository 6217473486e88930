// The model repository served in-process: the first load, Triton-style polling (a scan every
// pollIntervalMs, re-armed after each scan so scans never overlap, on an unref'd timer), new model
// directories loaded, removed ones retired, and explicit load / unload.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { RepositoryEntry } from '../backend.ts';
import type { LoadedVersion } from './loaded-version.ts';
import type { SessionSettings } from './session-worker-protocol.ts';
import { directoryExists, listModelDirectories } from './model-files.ts';
import { RepositoryModel } from './repository-model.ts';
import { RunSlots } from './run-slots.ts';

export interface ModelRepositoryOptions {
  readonly root: string;
  /** 0 or less: load once at start, never poll (Triton's model control mode NONE). */
  readonly pollIntervalMs: number;
  readonly settings: SessionSettings;
  readonly logger: Logger;
  /** Most ONNX Runtime runs at once across all models and versions (default: os.availableParallelism()). */
  readonly maxConcurrentRuns?: number;
}

export class ModelRepository {
  readonly #options: ModelRepositoryOptions;
  readonly #models = new Map<string, RepositoryModel>();
  /** Every loaded session not yet released, of any model (removed models' included), for terminateAll(). */
  readonly #sessions = new Set<LoadedVersion>();
  readonly #runSlots: RunSlots;
  #timer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #scanProblem: string | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ModelRepositoryOptions) {
    this.#options = options;
    this.#runSlots = new RunSlots(options.maxConcurrentRuns ?? availableParallelism());
  }

  /** Loads every model once (a missing repository directory rejects), then starts polling. Idempotent. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      await listModelDirectories(this.#options.root);
      await this.scan();
      this.#schedule();
    })();
    return this.#starting;
  }

  /** One scan of the repository; a caller arriving during a scan shares it. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  model(name: string): RepositoryModel | undefined {
    return this.#models.get(name);
  }

  index(readyOnly: boolean): RepositoryEntry[] {
    return [...this.#models.keys()].sort().flatMap((name) => this.#models.get(name)?.index(readyOnly) ?? []);
  }

  /** Explicit load: (re)reads the model's directory; fails when no version of it is READY afterwards. */
  async load(name: string): Promise<void> {
    if (!isPlainName(name) || !(await directoryExists(join(this.#options.root, name)))) {
      throw new GatewayError('MODEL_NOT_FOUND', `no model directory '${name}' in the model repository`);
    }
    const model = this.#modelFor(name);
    await model.load();
    if (model.readyVersions().length === 0) {
      const reasons = model.index(false).map((entry) => `${entry.version === '' ? '' : `version ${entry.version}: `}${entry.reason}`);
      throw new GatewayError('BACKEND_ERROR', `failed to load '${name}': ${reasons.join('; ')}`);
    }
  }

  /** Explicit unload: the model stays unloaded (polls leave it alone) until load() is called. */
  async unload(name: string): Promise<void> {
    const model = this.#models.get(name);
    if (model === undefined) throw new GatewayError('MODEL_NOT_FOUND', `unknown model '${name}'`);
    await model.unload();
  }

  /** Shutdown past its grace: every session's runs in progress fail now, and its worker ends once out of its run. */
  async terminateAll(): Promise<void> {
    await Promise.all([...this.#sessions].map((session) => session.terminate()));
  }

  /** Stops polling, waits for a running scan, releases every session once its requests finished. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#scanning;
      await Promise.all([...this.#models.values()].map((model) => model.retireAll()));
    })();
    return this.#closing;
  }

  #schedule(): void {
    if (this.#closing !== undefined || this.#options.pollIntervalMs <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.scan().finally(() => this.#schedule());
    }, this.#options.pollIntervalMs);
    this.#timer.unref();
  }

  async #scan(): Promise<void> {
    if (this.#closing !== undefined) return;
    const { root, logger } = this.#options;
    let names: string[];
    try {
      names = await listModelDirectories(root);
      if (this.#scanProblem !== undefined) logger.info({ repository: root }, 'model repository readable again');
      this.#scanProblem = undefined;
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      if (problem !== this.#scanProblem) logger.warn({ repository: root, reason: problem }, 'model repository unreadable; models stay as they are');
      this.#scanProblem = problem;
      return;
    }
    const present = new Set(names);
    for (const [name, model] of this.#models) {
      if (present.has(name)) continue;
      this.#models.delete(name);
      logger.info({ model: name }, 'model directory removed; unloading the model');
      void model.retireAll().then(
        () => logger.info({ model: name }, 'model unloaded'),
        (error: unknown) => logger.warn({ model: name, err: error }, 'model unloaded; releasing a session failed'),
      );
    }
    await Promise.all(
      names.map((name) =>
        this.#modelFor(name)
          .sync()
          .catch((error: unknown) => logger.warn({ model: name, err: error }, 'model sync failed; trying again at the next poll')),
      ),
    );
  }

  #modelFor(name: string): RepositoryModel {
    let model = this.#models.get(name);
    if (model === undefined) {
      model = new RepositoryModel(name, this.#options.root, this.#options.settings, this.#options.logger, { sessions: this.#sessions, runSlots: this.#runSlots });
      this.#models.set(name, model);
    }
    return model;
  }
}

function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !name.startsWith('.');
}
