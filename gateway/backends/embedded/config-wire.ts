// The config JSON exactly as the Triton backend hands it up: the document goes through the project's own
// ModelConfigResponse message (proto/, via proto-loader, as a Triton answer does) and the null
// placeholders of unset messages are dropped. So both backends answer GET .../config with the same
// fields, and a field added to (or left out of) the project's proto changes both alike.
import { loadInferenceProtocol, serviceMethods } from '../inference-protocol.ts';
import type { UnaryMethod } from '../inference-protocol.ts';
import type { JsonObject } from './config-document.ts';

let modelConfigMethod: UnaryMethod | undefined;

export function asTritonConfigJson(config: JsonObject): JsonObject {
  modelConfigMethod ??= serviceMethods(loadInferenceProtocol()).ModelConfig;
  const wire = modelConfigMethod.responseSerialize({ config });
  const decoded = (modelConfigMethod.responseDeserialize(wire) as { config?: unknown }).config;
  return withoutUnset(decoded) as JsonObject;
}

function withoutUnset(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUnset);
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  const out: JsonObject = {};
  for (const [key, field] of Object.entries(value)) if (field !== null && field !== undefined) out[key] = withoutUnset(field);
  return out;
}
