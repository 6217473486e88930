// Metadata and config of each model version, fetched from the backend once and kept until the
// readiness monitor sees the model's versions change. Concurrent first requests share one fetch.
import type { Backend } from '../backends/backend.ts';
import { GatewayError, unknownModel } from '../errors.ts';
import { buildSignature } from './model-signature.ts';
import type { ModelSignature } from './model-signature.ts';

export interface ModelCatalogOptions {
  readonly backend: Backend;
  /** Deadline for metadata and config calls. */
  readonly controlTimeoutMs: number;
}

export class ModelCatalog {
  readonly #backend: Backend;
  readonly #controlTimeoutMs: number;
  /** model -> version ('' = latest) -> signature being fetched or fetched. */
  readonly #entries = new Map<string, Map<string, Promise<ModelSignature>>>();

  constructor(options: ModelCatalogOptions) {
    this.#backend = options.backend;
    this.#controlTimeoutMs = options.controlTimeoutMs;
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

  /** Forget a model's cached versions, e.g. after its versions or their states changed. */
  invalidate(model: string): void {
    this.#entries.delete(model);
  }

  /** Forget everything, e.g. after the backend restarted (configs may have changed under old versions). */
  invalidateAll(): void {
    this.#entries.clear();
  }

  async #fetch(model: string, version: string): Promise<ModelSignature> {
    const options = { deadline: Date.now() + this.#controlTimeoutMs };
    const [metadata, config] = await Promise.all([
      this.#backend.modelMetadata(model, version, options),
      this.#backend.modelConfig(model, version, options),
    ]).catch((error: unknown) => {
      if (error instanceof GatewayError && error.code === 'MODEL_NOT_FOUND') {
        throw unknownModel(model, version, error);
      }
      throw error;
    });
    return buildSignature(metadata, config);
  }
}
