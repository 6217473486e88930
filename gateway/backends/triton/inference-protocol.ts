// The Open Inference Protocol's gRPC service as the project's own .proto files define it: the files
// loaded at run time, and the message shapes the Triton backend reads and writes (proto-loader options:
// snake_case keys, int64 as JS numbers, enums as their names). The embedded backend speaks no gRPC: it
// reads model configs through proto/model_config.proto with protobufjs (../model-config-document.ts).
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition, Options, PackageDefinition } from '@grpc/proto-loader';

export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));
export const SERVICE_NAME = 'inference.GRPCInferenceService';

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  // No virtual "*_choice" keys: the decoded config is served as JSON as it is.
  oneofs: false,
  includeDirs: [PROTO_DIR],
};

export function loadInferenceProtocol(): PackageDefinition {
  return loadSync('inference_service.proto', PROTO_LOADER_OPTIONS);
}

export type RpcName =
  | 'ServerLive'
  | 'ServerReady'
  | 'ModelReady'
  | 'ServerMetadata'
  | 'ModelMetadata'
  | 'ModelInfer'
  | 'ModelConfig'
  | 'RepositoryIndex'
  | 'RepositoryModelLoad'
  | 'RepositoryModelUnload';

export type UnaryMethod = MethodDefinition<object, object>;

export function serviceMethods(definition: PackageDefinition): Readonly<Record<RpcName, UnaryMethod>> {
  const service = definition[SERVICE_NAME];
  if (service === undefined || !('ModelInfer' in service)) throw new Error(`${SERVICE_NAME} missing from the proto files`);
  return service as unknown as Record<RpcName, UnaryMethod>;
}

// ---- Message shapes, as decoded with PROTO_LOADER_OPTIONS ----

export interface InferParameterMessage {
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

export interface TensorMessage {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, InferParameterMessage>;
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameterMessage>;
  inputs: TensorMessage[];
  outputs: { name: string; parameters?: Record<string, InferParameterMessage> }[];
  raw_input_contents: Uint8Array[];
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  outputs: TensorMessage[];
  raw_output_contents: Buffer[];
}

export interface ModelMetadataResponseMessage {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

export interface ServerMetadataResponseMessage {
  name: string;
  version: string;
  extensions: string[];
}

export interface RepositoryIndexResponseMessage {
  models: { name: string; version: string; state: string; reason: string }[];
}

export interface ModelConfigResponseMessage {
  config: Record<string, unknown> | null;
}
