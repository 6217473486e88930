// One model directory of the repository, kept in step with the disk the way Triton's poll mode does:
// the version policy picks the version directories to load; a new or changed version serves once its
// session is ready; versions that leave the policy are retired only when every wanted version is READY
// (a failed load leaves the old one serving); a removed directory is retired at once, its running
// requests finishing first. Syncs, loads and unloads of one model run one at a time.
import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { UNLOADED_REASON } from '../backend.ts';
import type { RepositoryEntry } from '../backend.ts';
import { clientDetails } from '../client-details.ts';
import { LoadedVersion } from './loaded-version.ts';
import type { SessionSettings } from './session-worker-protocol.ts';
import { parseModelConfig, selectVersions } from './model-config.ts';
import type { EmbeddedModelConfig } from './model-config.ts';
import { CONFIG_FILENAME, listVersionDirectories, modelFilePath, stampOf } from './model-files.ts';
import type { RunSlots } from './run-slots.ts';
import { VersionSlot } from './version-slot.ts';

const MISSING = 'missing';

/** What the models of one repository share: their sessions not yet released, and the cap on runs at once. */
export interface RepositoryShared {
  readonly sessions: Set<LoadedVersion>;
  readonly runSlots: RunSlots;
}

export class RepositoryModel {
  readonly name: string;
  readonly #directory: string;
  /** The repository directory with a trailing separator: cut from reasons, so clients read relative paths. */
  readonly #root: string;
  readonly #settings: SessionSettings;
  readonly #logger: Logger;
  readonly #slots = new Map<number, VersionSlot>();
  /** The repository's set of sessions not yet released (shared by its models). */
  readonly #sessions: Set<LoadedVersion>;
  readonly #runSlots: RunSlots;
  #configStamp: string | undefined;
  #config: EmbeddedModelConfig | undefined;
  /** Why config.pbtxt as it is now cannot be used; while set, the model is left as it was. */
  #configProblem: string | undefined;
  /** Why the policy selects no version directory. */
  #versionProblem: string | undefined;
  #unloaded = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(name: string, repository: string, settings: SessionSettings, logger: Logger, shared: RepositoryShared) {
    this.name = name;
    this.#sessions = shared.sessions;
    this.#runSlots = shared.runSlots;
    this.#directory = join(repository, name);
    this.#root = join(repository, sep);
    this.#settings = settings;
    this.#logger = logger.child({ model: name });
  }

  /** Brings the model in step with its directory; a model unloaded explicitly stays unloaded. */
  sync(): Promise<void> {
    return this.#serially(() => (this.#unloaded ? Promise.resolve() : this.#sync(false)));
  }

  /** Explicit load: re-reads config and files, retrying failed versions even if unchanged. */
  load(): Promise<void> {
    return this.#serially(() => {
      this.#unloaded = false;
      return this.#sync(true);
    });
  }

  /** Explicit unload: every version UNAVAILABLE "unloaded" once its running requests finished. */
  unload(): Promise<void> {
    return this.#serially(async () => {
      this.#unloaded = true;
      await Promise.all([...this.#slots.values()].map((slot) => slot.unload()));
    });
  }

  /** The session serving `version` ('' = the highest READY one); MODEL_NOT_FOUND / MODEL_NOT_READY otherwise. */
  serving(version: string): LoadedVersion {
    if (version === '') {
      const ready = this.readyVersions();
      const latest = ready.length === 0 ? undefined : this.#slots.get(ready[ready.length - 1] as number)?.serving;
      if (latest === undefined) throw new GatewayError('MODEL_NOT_READY', `model '${this.name}' has no available versions${this.#why()}`);
      return latest;
    }
    const slot = this.#slot(version);
    const session = slot.serving;
    if (session === undefined) {
      const reason = slot.reason === '' ? '' : ` (${slot.reason})`;
      throw new GatewayError('MODEL_NOT_READY', `version '${version}' of model '${this.name}' is ${slot.state}${reason}`);
    }
    return session;
  }

  /** Whether `version` ('' = any) serves now; MODEL_NOT_FOUND for a version the model does not have. */
  isReady(version: string): boolean {
    if (version === '') return this.readyVersions().length > 0;
    return this.#slot(version).state === 'READY';
  }

  /** READY versions, lowest first. */
  readyVersions(): number[] {
    return [...this.#slots.values()].filter((slot) => slot.state === 'READY').map((slot) => slot.version).sort((a, b) => a - b);
  }

  index(readyOnly: boolean): RepositoryEntry[] {
    const slots = [...this.#slots.values()].sort((a, b) => a.version - b.version);
    const entries: RepositoryEntry[] =
      slots.length === 0
        ? [{ name: this.name, version: '', state: 'UNAVAILABLE', reason: this.#problem() ?? '' }]
        : slots.map((slot) => ({ name: this.name, version: String(slot.version), state: slot.state, reason: slot.reason }));
    return readyOnly ? entries.filter((entry) => entry.state === 'READY') : entries;
  }

  /** Retires every version (the directory is gone, or the backend closes); resolves once all drained. */
  retireAll(): Promise<void> {
    return this.#serially(async () => {
      this.#unloaded = true;
      await Promise.all([...this.#slots.values()].map((slot) => slot.unload()));
    });
  }

  #slot(version: string): VersionSlot {
    const slot = /^[0-9]+$/.test(version) ? this.#slots.get(Number(version)) : undefined;
    if (slot === undefined) throw new GatewayError('MODEL_NOT_FOUND', `Request for unknown model: '${this.name}' version ${version} is not found`);
    return slot;
  }

  #serially(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #why(): string {
    const reasons = [...this.#slots.values()].filter((slot) => slot.reason !== '').map((slot) => `version ${slot.version}: ${slot.reason}`);
    const problem = this.#problem();
    if (reasons.length === 0 && problem !== undefined) reasons.push(problem);
    return reasons.length === 0 ? '' : ` (${reasons.join('; ')})`;
  }

  /** Why the model as a whole does not serve, when no version says so itself. */
  #problem(): string | undefined {
    return this.#unloaded ? UNLOADED_REASON : (this.#configProblem ?? this.#versionProblem);
  }

  async #sync(force: boolean): Promise<void> {
    const config = await this.#readConfig(force);
    if (config === undefined) return;
    const onDisk = await listVersionDirectories(this.#directory);
    const wanted = selectVersions(config.versionPolicy, onDisk);
    this.#versionProblem = wanted.length === 0 ? `at least one version must be available under the version policy of model '${this.name}'` : undefined;
    await Promise.all(wanted.map((version) => this.#ensureLoaded(version, config, force)));
    const present = new Set(onDisk);
    const wantedSet = new Set(wanted);
    const allWantedReady = wanted.every((version) => this.#slots.get(version)?.state === 'READY');
    for (const slot of this.#slots.values()) {
      if (wantedSet.has(slot.version)) continue;
      if (slot.serving !== undefined && (!present.has(slot.version) || allWantedReady)) {
        this.#logger.info({ version: slot.version, inFlight: slot.serving.inFlight }, 'unloading model version');
        void slot.unload().then(
          () => this.#logger.info({ version: slot.version }, 'model version unloaded'),
          (error: unknown) => this.#logger.warn({ version: slot.version, err: error }, 'model version unloaded; releasing its session failed'),
        );
      } else if (slot.state === 'UNAVAILABLE' && slot.reason !== UNLOADED_REASON) {
        // A failed version nobody wants any more (its directory is gone, or the policy moved on).
        this.#slots.delete(slot.version);
      }
    }
  }

  /** The config to load versions with, or undefined when there is none usable (nothing is changed then). */
  async #readConfig(force: boolean): Promise<EmbeddedModelConfig | undefined> {
    const path = join(this.#directory, CONFIG_FILENAME);
    const stamp = (await stampOf(path)) ?? MISSING;
    // A config that cannot be used leaves the model as it is (old versions serving) until the file changes.
    if (!force && stamp === this.#configStamp) return this.#configProblem === undefined ? this.#config : undefined;
    this.#configStamp = stamp;
    try {
      if (stamp === MISSING) throw new Error(`${CONFIG_FILENAME} is missing (the embedded backend does not auto-complete configs)`);
      this.#config = parseModelConfig(await readFile(path, 'utf8'), this.name);
      this.#configProblem = undefined;
      return this.#config;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#configProblem = this.#forClients(reason);
      const keeps = this.readyVersions();
      this.#logger.warn(
        { reason, servingVersions: keeps },
        keeps.length > 0 ? 'model config unusable; the loaded versions keep serving' : 'model config unusable; model not loaded',
      );
      return undefined;
    }
  }

  /** A reason as clients read it (index, MODEL_NOT_READY, a failed load): paths relative to the repository; the log keeps it whole. */
  #forClients(reason: string): string {
    return clientDetails(reason.split(this.#root).join(''));
  }

  /** A dead worker's version goes UNAVAILABLE at once and is loaded again (a crash is not a file change). */
  #workerDied(slot: VersionSlot, loaded: LoadedVersion, reason: string): void {
    if (!slot.died(loaded, `the session worker died: ${reason}`)) return;
    this.#logger.warn({ version: slot.version, reason }, 'the session worker of a model version died; loading the version again');
    loaded.retire().catch(() => undefined);
    this.sync().catch((error: unknown) => this.#logger.warn({ version: slot.version, err: error }, 'loading the version again failed'));
  }

  async #ensureLoaded(version: number, config: EmbeddedModelConfig, force: boolean): Promise<void> {
    const path = await modelFilePath(this.#directory, version, config.modelFilename);
    const stamp = `${this.#configStamp ?? MISSING}|${(await stampOf(path)) ?? MISSING}`;
    let slot = this.#slots.get(version);
    if (slot?.serving?.stamp === stamp) return;
    if (!force && slot?.failedStamp === stamp) return;
    if (slot === undefined) {
      slot = new VersionSlot(version);
      this.#slots.set(version, slot);
    }
    slot.loading();
    const replacing = slot.serving !== undefined;
    try {
      if (stamp.endsWith(`|${MISSING}`)) throw new Error(`${path} does not exist`);
      const loaded = await LoadedVersion.load(path, version, config, stamp, this.#settings, this.#runSlots);
      this.#sessions.add(loaded);
      void loaded.whenReleased.then(() => this.#sessions.delete(loaded));
      const loadedSlot = slot;
      loaded.onDied = (reason) => this.#workerDied(loadedSlot, loaded, reason);
      const previous = slot.loaded(loaded);
      this.#logger.info({ version }, replacing ? 'model version reloaded' : 'model version loaded');
      if (previous !== undefined) {
        previous.retire().catch((error: unknown) => this.#logger.warn({ version, err: error }, 'releasing the replaced session failed'));
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      slot.failed(stamp, this.#forClients(reason));
      this.#logger.warn(
        { version, reason },
        replacing ? 'model version failed to reload; the loaded session keeps serving' : 'model version failed to load',
      );
    }
  }
}
