// The Backend implementation that forwards everything to a Triton Inference Server over gRPC, every
// call inside the link breaker.
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import { isDatatype } from '../../tensors/datatype.ts';
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
  RepositoryEntry,
  ServerMetadata,
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

  async serverReady(options: CallOptions): Promise<boolean> {
    return (await this.#call<{ ready: boolean }>('ServerReady', {}, options)).ready;
  }

  async modelReady(model: string, version: string, options: CallOptions): Promise<boolean> {
    return (await this.#call<{ ready: boolean }>('ModelReady', { name: model, version }, options)).ready;
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
    await this.#call('RepositoryModelLoad', { repository_name: '', model_name: model }, options);
  }

  async unloadModel(model: string, options: CallOptions): Promise<void> {
    await this.#call('RepositoryModelUnload', { repository_name: '', model_name: model }, options);
  }

  linkState(): LinkState {
    return this.#breaker.state;
  }

  retryAfterSeconds(): number {
    return this.#breaker.retryAfterSeconds();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#breaker.shutdown();
    this.#client.close();
  }

  #call<T extends object>(rpc: RpcName, request: object, options: CallOptions): Promise<T> {
    if (this.#closed) return Promise.reject(new GatewayError('SHUTTING_DOWN', 'backend closed'));
    return this.#breaker.run(() => this.#client.call<T>(rpc, request, options));
  }
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
