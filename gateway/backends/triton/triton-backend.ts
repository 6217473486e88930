// The Backend implementation that forwards everything to a Triton Inference Server over gRPC, every
// call inside the link breaker. Triton's quirks end here: ready=false for models it has never heard of,
// 200 to unloading a model it does not have, and a strict readiness that is false during every swap.
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import { isDatatype } from '../../tensors/datatype.ts';
import { UNLOADED_REASON } from '../backend.ts';
import type {
  Backend,
  CallOptions,
  InferRequest,
  InferResult,
  LinkState,
  ModelConfigDocument,
  Parameters,
  ModelMetadata,
  RawTensor,
  ReadinessEvidence,
  RepositoryEntry,
  ServerMetadata,
  ServerReadiness,
} from '../backend.ts';
import type {
  InferParameterMessage,
  ModelConfigResponseMessage,
  ModelInferRequestMessage,
  ModelInferResponseMessage,
  ModelMetadataResponseMessage,
  RepositoryIndexResponseMessage,
  RpcName,
  ServerMetadataResponseMessage,
} from './inference-protocol.ts';
import { LinkBreaker } from './link-breaker.ts';
import type { BreakerSettings } from './link-breaker.ts';
import { TritonGrpcClient } from './triton-grpc-client.ts';
import { clientDetails } from '../client-details.ts';
import { modelConfigDocument } from '../model-config-document.ts';

export interface TritonBackendOptions {
  readonly address: string;
  readonly keepaliveMs: number;
  readonly breaker: BreakerSettings;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
}

export class TritonBackend implements Backend {
  readonly kind = 'triton';
  readonly description: string;
  readonly #client: TritonGrpcClient;
  readonly #breaker: LinkBreaker;
  /** The one poll of grace (see serverReadiness) has been used since Triton last said ready itself. */
  #graced = false;
  #closed = false;

  constructor(options: TritonBackendOptions) {
    this.description = `triton grpc ${options.address}`;
    this.#client = new TritonGrpcClient({ address: options.address, keepaliveMs: options.keepaliveMs, metrics: options.metrics, logger: options.logger.child({ component: 'triton-channel' }) });
    this.#breaker = new LinkBreaker({ ...options.breaker, logger: options.logger.child({ component: 'breaker' }), metrics: options.metrics });
  }

  async infer(request: InferRequest, options: CallOptions): Promise<InferResult> {
    const message: ModelInferRequestMessage = {
      model_name: request.model,
      model_version: request.version,
      id: request.id ?? '',
      inputs: request.inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: [...input.shape] })),
      outputs: request.outputs.map((name) => {
        const parameters = request.outputParameters?.[name];
        return parameters === undefined ? { name } : { name, parameters: toInferParameters(parameters) };
      }),
      raw_input_contents: request.inputs.map((input) => input.data),
      ...(request.parameters === undefined ? {} : { parameters: toInferParameters(request.parameters) }),
    };
    const response = await this.#call<ModelInferResponseMessage>('ModelInfer', message, options);
    return { model: response.model_name, version: response.model_version, outputs: outputsOf(response) };
  }

  async serverMetadata(options: CallOptions): Promise<ServerMetadata> {
    const response = await this.#call<ServerMetadataResponseMessage>('ServerMetadata', {}, options);
    return { name: response.name, version: response.version, extensions: response.extensions };
  }

  async serverReadiness(evidence: ReadinessEvidence, options: CallOptions): Promise<ServerReadiness> {
    const reported = (await this.#call<{ ready: boolean }>('ServerReady', {}, options)).ready;
    let ready = reported || (churnExplains(evidence) && evidence.servedReady);
    // Triton's readiness and its index are two calls; a swap can flip between them and leave "not
    // ready" unexplained for one poll while every served model serves. One poll of grace absorbs that;
    // a Triton that stays not ready is reported at the next poll.
    if (!ready && evidence.servedReady && evidence.wasReady && !this.#graced) {
      this.#graced = true;
      ready = true;
    } else if (ready && reported) this.#graced = false;
    return ready ? { ready } : { ready, reason: 'triton reports not ready' };
  }

  async modelReady(model: string, version: string, options: CallOptions): Promise<boolean> {
    const ready = (await this.#call<{ ready: boolean }>('ModelReady', { name: model, version }, options)).ready;
    // Triton answers ready=false (not NOT_FOUND) for a model or version it has never heard of; the
    // repository index tells "unknown" from "known but not ready".
    if (!ready && !indexLists(await this.repositoryIndex(false, options), model, version)) {
      throw new GatewayError('MODEL_NOT_FOUND', `triton ModelReady: ${version === '' ? '' : `version ${version} of `}model "${model}" is not in the repository index`);
    }
    return ready;
  }

  async modelMetadata(model: string, version: string, options: CallOptions): Promise<ModelMetadata> {
    const response = await this.#call<ModelMetadataResponseMessage>('ModelMetadata', { name: model, version }, options);
    return {
      name: response.name,
      versions: response.versions,
      platform: response.platform,
      inputs: response.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      outputs: response.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    };
  }

  async modelConfig(model: string, version: string, options: CallOptions): Promise<ModelConfigDocument> {
    const response = await this.#call<ModelConfigResponseMessage>('ModelConfig', { name: model, version }, options);
    if (response.config === null) throw new GatewayError('BACKEND_ERROR', `triton ModelConfig: no config for model "${model}"`);
    return modelConfigDocument(response.config);
  }

  async repositoryIndex(readyOnly: boolean, options: CallOptions): Promise<readonly RepositoryEntry[]> {
    const response = await this.#call<RepositoryIndexResponseMessage>('RepositoryIndex', { repository_name: '', ready: readyOnly }, options);
    // Triton's reasons carry its file paths and Python tracebacks: clients read them without.
    return response.models.map(({ name, version, state, reason }) => ({ name, version, state, reason: clientDetails(reason) }));
  }

  async loadModel(model: string, options: CallOptions): Promise<void> {
    // A model added to disk since Triton's last scan is only found by the load itself; the index tells
    // afterwards whether a failure meant "no such model".
    await this.#call('RepositoryModelLoad', { repository_name: '', model_name: model }, options).catch(async (error: unknown) => {
      if (error instanceof GatewayError && error.code === 'MODEL_ERROR' && !(await this.#inIndex(model, options))) throw notInRepository(model, error);
      throw withControlHint(error);
    });
  }

  async unloadModel(model: string, options: CallOptions): Promise<void> {
    // Triton answers 200 to unloading a model it does not have.
    if (!(await this.#inIndex(model, options))) throw notInRepository(model);
    await this.#call('RepositoryModelUnload', { repository_name: '', model_name: model }, options).catch((error: unknown) => {
      throw withControlHint(error);
    });
  }

  linkState(): LinkState {
    return this.#breaker.state;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#breaker.shutdown();
    this.#client.close();
  }

  async #inIndex(model: string, options: CallOptions): Promise<boolean> {
    return indexLists(await this.repositoryIndex(false, options), model, '');
  }

  #call<T extends object>(rpc: RpcName, request: object, options: CallOptions): Promise<T> {
    if (this.#closed) return Promise.reject(new GatewayError('SHUTTING_DOWN', 'backend closed'));
    return this.#breaker.run(() => this.#client.call<T>(rpc, request, options));
  }
}

/**
 * Triton's strict readiness is false while any version loads, unloads or failed to load, even when every
 * model still serves. Not ready is overruled only when the index explains it entirely by such versions:
 * of a model that still has a READY version, or of a model the gateway does not serve.
 */
function churnExplains({ index, served }: ReadinessEvidence): boolean {
  const withReadyVersion = new Set(index.filter((entry) => entry.state === 'READY').map((entry) => entry.name));
  const servedSet = new Set(served);
  const churn = index.filter((entry) => (entry.state ?? '') !== '' && entry.state !== 'READY' && !(entry.state === 'UNAVAILABLE' && entry.reason === UNLOADED_REASON));
  return churn.length > 0 && withReadyVersion.size > 0 && churn.every((entry) => withReadyVersion.has(entry.name) || !servedSet.has(entry.name));
}

function notInRepository(model: string, cause?: unknown): GatewayError {
  return new GatewayError('MODEL_NOT_FOUND', `triton: model "${model}" is not in the repository index`, { cause });
}

/** A refusal retrying cannot change (Triton not in explicit model-control mode) says what would make it work. */
function withControlHint(error: unknown): unknown {
  if (!(error instanceof GatewayError) || error.code !== 'BACKEND_UNSUPPORTED') return error;
  const hint = 'Triton allows load and unload only with --model-control-mode=explicit (in poll mode, change the model repository instead)';
  return new GatewayError(error.code, `${error.message}; ${hint}`, { cause: error });
}

function toInferParameters(parameters: Parameters): Record<string, InferParameterMessage> {
  const out: Record<string, InferParameterMessage> = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (typeof value === 'boolean') out[key] = { bool_param: value };
    else if (typeof value === 'string') out[key] = { string_param: value };
    else if (Number.isSafeInteger(value)) out[key] = { int64_param: value };
    else out[key] = { double_param: value };
  }
  return out;
}

function outputsOf(response: ModelInferResponseMessage): RawTensor[] {
  return response.outputs.map((output, index) => {
    const data = response.raw_output_contents[index];
    if (!isDatatype(output.datatype)) {
      throw new GatewayError('BACKEND_ERROR', `triton answered output "${output.name}" with unknown datatype ${output.datatype}`);
    }
    if (data === undefined) {
      throw new GatewayError('BACKEND_ERROR', `triton answered output "${output.name}" without raw_output_contents`);
    }
    return { name: output.name, datatype: output.datatype, shape: output.shape, data };
  });
}

/**
 * True when the index lists `model` (and, when one is named, that `version` of it). Versions are numbers
 * (Triton reads "01" as 1, so does the embedded backend): compared as such, not as strings.
 */
function indexLists(index: readonly RepositoryEntry[], model: string, version: string): boolean {
  const wanted = withoutLeadingZeros(version);
  return index.some((entry) => entry.name === model && (version === '' || withoutLeadingZeros(entry.version ?? '') === wanted));
}

function withoutLeadingZeros(version: string): string {
  return version.replace(/^0+(?=\d)/, '');
}
