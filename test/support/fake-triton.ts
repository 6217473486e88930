// An in-process gRPC server built from the project's own protos, for FAULTS ONLY: it can be told to be
// not ready, to fail the next calls with a chosen status, or to answer late. Its "models" compute
// trivial functions; correctness against real models is proven against a real tritonserver elsewhere.
import { Server, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadInferenceProtocol, SERVICE_NAME } from '../../gateway/backends/triton/inference-protocol.ts';
import type { ModelInferRequestMessage } from '../../gateway/backends/triton/inference-protocol.ts';
import { decodeRawData } from '../../gateway/tensors/raw-decoder.ts';

interface FakeTensor {
  name: string;
  datatype: string;
  shape: number[];
}

interface FakeModel {
  name: string;
  versions: string[];
  maxBatchSize: number;
  inputs: FakeTensor[];
  outputs: FakeTensor[];
  infer(inputs: Map<string, { shape: number[]; data: Uint8Array }>): { name: string; datatype: string; shape: number[]; data: Uint8Array }[];
}

export interface Fault {
  readonly code: number;
  readonly details: string;
}

/** digits-like: FP32 [-1, 4] in, "doubled" FP32 [-1, 4] and INT64 label [-1, 1] (row index) out. */
const FAKE_DIGITS: FakeModel = {
  name: 'fake_digits',
  versions: ['1', '2'],
  maxBatchSize: 8,
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'doubled', datatype: 'FP32', shape: [-1, 4] },
    { name: 'label', datatype: 'INT64', shape: [-1, 1] },
  ],
  infer(inputs) {
    const pixels = inputs.get('pixels');
    if (pixels === undefined) throw new Error('missing pixels');
    const source = new Float32Array(Uint8Array.from(pixels.data).buffer);
    const doubled = Float32Array.from(source, (value) => value * 2);
    const rows = pixels.shape[0] ?? 0;
    const labels = BigInt64Array.from({ length: rows }, (_, row) => BigInt(row));
    return [
      { name: 'doubled', datatype: 'FP32', shape: pixels.shape, data: new Uint8Array(doubled.buffer) },
      { name: 'label', datatype: 'INT64', shape: [rows, 1], data: new Uint8Array(labels.buffer) },
    ];
  },
};

/** text-like, no batching: BYTES [-1, 1] in, upper-cased BYTES [-1] out. */
const FAKE_TEXT: FakeModel = {
  name: 'fake_text',
  versions: ['1'],
  maxBatchSize: 0,
  inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1, 1] }],
  outputs: [{ name: 'upper', datatype: 'BYTES', shape: [-1] }],
  infer(inputs) {
    const text = inputs.get('text');
    if (text === undefined) throw new Error('missing text');
    const decoded = decodeRawData('BYTES', text.data);
    if (!decoded.ok) throw new Error(decoded.error.message);
    const parts = decoded.value.map((value) => {
      const bytes = Buffer.from(String(value).toUpperCase(), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return Buffer.concat([length, bytes]);
    });
    return [{ name: 'upper', datatype: 'BYTES', shape: [decoded.value.length], data: Buffer.concat(parts) }];
  },
};

export class FakeTriton {
  readonly calls = new Map<string, number>();
  serverReady = true;
  readonly notReadyModels = new Set<string>();
  /** Reasons the repository index gives for a model (Triton's own words: paths, tracebacks). */
  readonly indexReasons = new Map<string, string>();
  /** Faults returned by the next ModelInfer calls, in order. */
  readonly inferFaults: Fault[] = [];
  /** A fault returned by every call of any RPC while set (e.g. a sick Triton). */
  persistentFault: Fault | undefined;
  inferDelayMs = 0;
  /** Per-model delays of ModelInfer, over inferDelayMs (e.g. one hung model while the others answer). */
  readonly inferDelayMsByModel = new Map<string, number>();
  /** Delays of the next ModelInfer calls, one per call in order, before the others (e.g. a few stuck calls of a busy model). */
  readonly inferDelays: number[] = [];
  serverExtensions = ['model_repository'];
  /** The ModelInfer requests received, as decoded (for checking what the gateway forwarded). */
  readonly inferRequests: ModelInferRequestMessage[] = [];
  readonly models = new Map([FAKE_DIGITS, FAKE_TEXT].map((model) => [model.name, model]));
  #server: Server | undefined;
  #port = 0;

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  count(rpc: string): number {
    return this.calls.get(rpc) ?? 0;
  }

  async start(port = 0): Promise<void> {
    // No message size limits (grpc-js: 4 MiB received by default), like the gateway's client: tests send large answers.
    const server = new Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
    const definition = loadInferenceProtocol()[SERVICE_NAME] as ServiceDefinition;
    server.addService(definition, this.#implementation());
    this.#port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    this.#server = server;
  }

  /** Kills the server with its connections, like a crashed Triton. */
  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  #implementation(): UntypedServiceImplementation {
    const handlers: Record<string, (request: Record<string, unknown>) => Promise<object> | object> = {
      ServerLive: () => ({ live: true }),
      ServerReady: () => ({ ready: this.serverReady }),
      ServerMetadata: () => ({ name: 'fake-triton', version: '0.0.0', extensions: this.serverExtensions }),
      // Like Triton 2.51: an unknown model or version is ready=false, not NOT_FOUND.
      ModelReady: (request) => {
        const model = this.models.get(String(request['name']));
        return { ready: model !== undefined && !this.notReadyModels.has(model.name) };
      },
      ModelMetadata: (request) => {
        const model = this.#model(String(request['name']), String(request['version']));
        return { name: model.name, versions: model.versions, platform: 'fake', inputs: model.inputs, outputs: model.outputs };
      },
      ModelConfig: (request) => {
        const model = this.#model(String(request['name']), String(request['version']));
        return {
          config: {
            name: model.name,
            max_batch_size: model.maxBatchSize,
            input: model.inputs.map(({ name, datatype, shape }) => ({ name, data_type: `TYPE_${datatype === 'BYTES' ? 'STRING' : datatype}`, dims: model.maxBatchSize > 0 ? shape.slice(1) : shape })),
            output: model.outputs.map(({ name, datatype, shape }) => ({ name, data_type: `TYPE_${datatype === 'BYTES' ? 'STRING' : datatype}`, dims: model.maxBatchSize > 0 ? shape.slice(1) : shape })),
          },
        };
      },
      RepositoryIndex: () => ({
        models: [...this.models.values()].map((model) => ({
          name: model.name,
          version: model.versions.at(-1),
          state: this.notReadyModels.has(model.name) ? 'UNAVAILABLE' : 'READY',
          reason: this.indexReasons.get(model.name) ?? '',
        })),
      }),
      RepositoryModelLoad: (request) => {
        this.notReadyModels.delete(String(request['model_name']));
        return {};
      },
      RepositoryModelUnload: (request) => {
        this.notReadyModels.add(String(request['model_name']));
        return {};
      },
      ModelInfer: async (request) => this.#infer(request as unknown as ModelInferRequestMessage),
    };
    const implementation: UntypedServiceImplementation = {};
    for (const [rpc, handler] of Object.entries(handlers)) {
      implementation[rpc] = (call: ServerUnaryCall<Record<string, unknown>, object>, callback: sendUnaryData<object>) => {
        this.calls.set(rpc, this.count(rpc) + 1);
        const fault = this.persistentFault ?? (rpc === 'ModelInfer' ? this.inferFaults.shift() : undefined);
        if (fault !== undefined) {
          callback({ code: fault.code, details: fault.details });
          return;
        }
        Promise.resolve()
          .then(() => handler(call.request))
          .then(
            (response) => callback(null, response),
            (error: unknown) => callback(error instanceof FakeStatus ? error : { code: GrpcStatus.INTERNAL, details: String(error) }),
          );
      };
    }
    return implementation;
  }

  #model(name: string, version = ''): FakeModel {
    const model = this.models.get(name);
    if (model === undefined) throw new FakeStatus(GrpcStatus.NOT_FOUND, `Request for unknown model: '${name}' is not found`);
    if (version !== '' && !model.versions.includes(version)) {
      throw new FakeStatus(GrpcStatus.NOT_FOUND, `Request for unknown model: '${name}' version ${version} is not found`);
    }
    return model;
  }

  async #infer(request: ModelInferRequestMessage): Promise<object> {
    this.inferRequests.push(request);
    const model = this.#model(request.model_name);
    const delayMs = this.inferDelays.shift() ?? this.inferDelayMsByModel.get(model.name) ?? this.inferDelayMs;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const inputs = new Map(request.inputs.map((input, index) => [input.name, { shape: input.shape, data: request.raw_input_contents[index] ?? new Uint8Array() }]));
    const outputs = model.infer(inputs).filter((output) => request.outputs.length === 0 || request.outputs.some((wanted) => wanted.name === output.name));
    return {
      model_name: model.name,
      model_version: request.model_version || model.versions.at(-1),
      id: request.id,
      outputs: outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      raw_output_contents: outputs.map((output) => output.data),
    };
  }
}

class FakeStatus extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, details: string) {
    super(details);
    this.code = code;
    this.details = details;
  }
}
