// The models the backend serves, as the layers above reach them: the signature of each model version
// (metadata and config, fetched once and kept until the readiness monitor sees the model's versions
// change; concurrent first requests share one fetch), and the live answers (readiness, the repository
// index, server metadata, load and unload). An unknown model is told in the gateway's own words,
// whichever backend runs the models.
import type { Backend, CallOptions, RepositoryEntry, ServerMetadata } from '../backends/backend.ts';
import { GatewayError, unknownModel } from '../errors.ts';
import { buildSignature } from './model-signature.ts';
import type { ModelSignature } from './model-signature.ts';

export interface ModelCatalogOptions {
  readonly backend: Backend;
  /** Deadline for metadata, config, readiness, index and server metadata calls. */
  readonly controlTimeoutMs: number;
  /** Deadline for load and unload (a load answers once the model is ready). */
  readonly loadTimeoutMs: number;
}

export class ModelCatalog {
  readonly #backend: Backend;
  readonly #controlTimeoutMs: number;
  readonly #loadTimeoutMs: number;
  /** model -> version ('' = latest) -> signature being fetched or fetched. */
  readonly #entries = new Map<string, Map<string, Promise<ModelSignature>>>();

  constructor(options: ModelCatalogOptions) {
    this.#backend = options.backend;
    this.#controlTimeoutMs = options.controlTimeoutMs;
    this.#loadTimeoutMs = options.loadTimeoutMs;
  }

  signature(model: string, version: string): Promise<ModelSignature> {
    let versions = this.#entries.get(model);
    const cached = versions?.get(version);
    if (cached !== undefined) return cached;
    const pending = this.#fetch(model, version);
    if (versions === undefined) {
      versions = new Map();
      this.#entries.set(model, versions);
    }
    versions.set(version, pending);
    // A failed fetch is not cached: the next request asks again (Triton may have come back).
    pending.catch(() => {
      const cached = this.#entries.get(model);
      if (cached?.get(version) === pending) cached.delete(version);
      if (cached?.size === 0) this.#entries.delete(model);
    });
    return pending;
  }

  /** Whether the model (version) can serve now; MODEL_NOT_FOUND when the backend does not have it. */
  ready(model: string, version: string): Promise<boolean> {
    return this.#backend.modelReady(model, version, this.#control()).catch(notFoundAs((cause) => unknownModel(model, version, cause)));
  }

  repositoryIndex(readyOnly: boolean): Promise<readonly RepositoryEntry[]> {
    return this.#backend.repositoryIndex(readyOnly, this.#control());
  }

  serverMetadata(): Promise<ServerMetadata> {
    return this.#backend.serverMetadata(this.#control());
  }

  /** Explicit load; the model's cached signatures are dropped once it is done. */
  async load(model: string): Promise<void> {
    await this.#backend.loadModel(model, this.#load()).catch(notFoundAs((cause) => notInRepository(model, cause)));
    this.invalidate(model);
  }

  /** Explicit unload; MODEL_NOT_FOUND (nothing changed) for a model the backend does not have. */
  async unload(model: string): Promise<void> {
    await this.#backend.unloadModel(model, this.#load()).catch(notFoundAs((cause) => notInRepository(model, cause)));
    this.invalidate(model);
  }

  /** Forget a model's cached versions, e.g. after its versions or their states changed. */
  invalidate(model: string): void {
    this.#entries.delete(model);
  }

  /** Forget everything, e.g. after the backend restarted (configs may have changed under old versions). */
  invalidateAll(): void {
    this.#entries.clear();
  }

  async #fetch(model: string, version: string): Promise<ModelSignature> {
    const options = this.#control();
    const [metadata, config] = await Promise.all([
      this.#backend.modelMetadata(model, version, options),
      this.#backend.modelConfig(model, version, options),
    ]).catch(notFoundAs((cause) => unknownModel(model, version, cause)));
    return buildSignature(metadata, config);
  }

  #control(): CallOptions {
    return { deadline: Date.now() + this.#controlTimeoutMs };
  }

  #load(): CallOptions {
    return { deadline: Date.now() + this.#loadTimeoutMs };
  }
}

function notInRepository(model: string, cause: unknown): GatewayError {
  return new GatewayError('MODEL_NOT_FOUND', `model "${model}" is not in the model repository`, { cause });
}

/** Rethrows a backend's MODEL_NOT_FOUND in the gateway's words (the backend's error is the cause), anything else as it is. */
function notFoundAs(inGatewayWords: (cause: GatewayError) => GatewayError): (error: unknown) => never {
  return (error: unknown) => {
    if (error instanceof GatewayError && error.code === 'MODEL_NOT_FOUND') throw inGatewayWords(error);
    throw error;
  };
}
