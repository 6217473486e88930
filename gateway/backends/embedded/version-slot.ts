// The state of one version of one model, as Triton's repository index reports it, and the session that
// serves it. A slot keeps serving its old session while a new one loads (a changed model file), and
// remembers the files of a failed load so a poll does not retry (and warn about) the same files again.
import { UNLOADED_REASON } from '../backend.ts';
import type { LoadedVersion } from './loaded-version.ts';

export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

export class VersionSlot {
  readonly version: number;
  #state: VersionState = 'LOADING';
  #reason = '';
  #serving: LoadedVersion | undefined;
  #draining: LoadedVersion | undefined;
  /** Stamp of the files whose load failed; undefined after a success. */
  failedStamp: string | undefined;

  constructor(version: number) {
    this.version = version;
  }

  get state(): VersionState {
    return this.#state;
  }

  get reason(): string {
    return this.#reason;
  }

  /** The session that takes new requests; only while READY. */
  get serving(): LoadedVersion | undefined {
    return this.#state === 'READY' ? this.#serving : undefined;
  }

  /** A load starts; a version already serving stays READY until the new session replaces it. */
  loading(): void {
    if (this.#serving !== undefined) return;
    this.#state = 'LOADING';
    this.#reason = '';
    this.#draining = undefined;
  }

  /** The new session serves; returns the one it replaces (to retire), if any. */
  loaded(session: LoadedVersion): LoadedVersion | undefined {
    const previous = this.#serving;
    this.#serving = session;
    this.#state = 'READY';
    this.#reason = '';
    this.#draining = undefined;
    this.failedStamp = undefined;
    return previous;
  }

  /** A load failed: a version still serving keeps serving; otherwise the version is UNAVAILABLE. */
  failed(stamp: string, reason: string): void {
    this.failedStamp = stamp;
    if (this.#serving !== undefined) return;
    this.#state = 'UNAVAILABLE';
    this.#reason = reason;
  }

  /**
   * The serving session's worker died: UNAVAILABLE with the reason, and no failed stamp, so that the next
   * sync loads the same files again. False when `session` no longer serves here (nothing changed).
   */
  died(session: LoadedVersion, reason: string): boolean {
    if (this.#serving !== session) return false;
    this.#serving = undefined;
    this.#state = 'UNAVAILABLE';
    this.#reason = reason;
    this.failedStamp = undefined;
    return true;
  }

  /**
   * Takes the version out of service: UNLOADING until the returned promise (the old session drained and
   * released) settles, then UNAVAILABLE "unloaded" unless a new load took the slot over meanwhile.
   */
  unload(): Promise<void> {
    const session = this.#serving;
    this.#serving = undefined;
    this.failedStamp = undefined;
    if (session === undefined) {
      if (this.#state !== 'UNLOADING') this.#markUnloaded();
      return Promise.resolve();
    }
    this.#state = 'UNLOADING';
    this.#reason = '';
    this.#draining = session;
    return session.retire().finally(() => {
      if (this.#draining === session) this.#markUnloaded();
    });
  }

  #markUnloaded(): void {
    this.#state = 'UNAVAILABLE';
    this.#reason = UNLOADED_REASON;
    this.#draining = undefined;
  }
}
