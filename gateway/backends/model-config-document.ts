// Triton's ModelConfig in the JSON form GET /v2/models/{m}/config answers, made the same way for both
// backends: the Triton backend's decoded gRPC answer and the embedded backend's config.pbtxt both go
// through the ModelConfig message of the project's own proto/model_config.proto (protobufjs reflection)
// and come out of one toObject call. Field names as in the .proto, enums by name, int64 as JS numbers,
// every scalar and list present with its default (as Triton prints them), unset messages left out.
// A field added to (or left out of) the .proto changes both backends' answers alike.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { IConversionOptions, Message, Type } from 'protobufjs';
import type { ModelConfigDocument } from './backend.ts';

const MODEL_CONFIG_PROTO = fileURLToPath(new URL('../../proto/model_config.proto', import.meta.url));
const MODEL_CONFIG_TYPE = 'inference.ModelConfig';

/**
 * The options proto-loader decodes Triton's answers with (triton/inference-protocol.ts); oneofs false: no
 * virtual "*_choice" keys, the set member alone names the choice, as in Triton's JSON.
 */
const DOCUMENT_OPTIONS: IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: false };

let modelConfig: Type | undefined;

/** The ModelConfig message type of proto/model_config.proto, field names as written there (keepCase). */
export function modelConfigType(): Type {
  if (modelConfig === undefined) {
    const root = new protobuf.Root();
    root.loadSync(MODEL_CONFIG_PROTO, { keepCase: true });
    root.resolveAll();
    modelConfig = root.lookupType(MODEL_CONFIG_TYPE);
  }
  return modelConfig;
}

/**
 * The JSON document of a ModelConfig: a message of modelConfigType(), or an object its fromObject reads
 * (what proto-loader decodes from Triton's answer). Frozen, so no caller can change a served config.
 */
export function modelConfigDocument(config: Message | Readonly<Record<string, unknown>>): ModelConfigDocument {
  const type = modelConfigType();
  const message = config instanceof protobuf.Message ? config : type.fromObject(config);
  return frozenWithoutUnset(type.toObject(message, DOCUMENT_OPTIONS)) as ModelConfigDocument;
}

/** Drops the null placeholders toObject gives unset message fields (Triton's JSON leaves them out). */
function frozenWithoutUnset(value: unknown): unknown {
  if (Array.isArray(value)) return Object.freeze(value.map(frozenWithoutUnset));
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== null && field !== undefined) out[key] = frozenWithoutUnset(field);
  return Object.freeze(out);
}
