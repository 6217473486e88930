// The embedded backend's config JSON equals Triton's, for every model of model_repository/. Three documents
// per model: Triton's own answer (its HTTP GET /v2/models/{m}/config), the gateway's in front of that
// Triton (gRPC ModelConfig, through proto/model_config.proto), and the gateway's on the embedded backend
// (config.pbtxt read through the same .proto, with Triton's defaults filled in). Field for field equal,
// except:
// - Triton's own answer is compared on the fields of the project's .proto: the gateway answers those, on
//   either backend (the contract suite's documents). Triton 2.51 also prints runtime, batch_input,
//   batch_output, optimization, cc_model_filenames, metric_tags, model_warmup, outputs' is_shape_tensor,
//   is_non_linear_format_io, dynamic_batching's priority settings, instance groups' secondary_devices,
//   profile, passive, host_policy. A field added to the .proto is answered by both backends, and is then
//   held here to Triton's value.
// - the runtime fields (RUNTIME_FIELDS below).
// The twin writes its own instance_group (KIND_CPU, count 1; twin-repository.ts): a model that sets
// another would differ there because of the twin, not the gateway.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { modelConfigType } from '../../gateway/backends/model-config-document.ts';
import { MODEL_REPOSITORY } from '../support/real-triton/twin-repository.ts';
import { useEmbeddedContractBackend, useTritonContractBackend } from './contract-backend.ts';
import type { ContractBackend, RuntimeFields } from './contract-backend.ts';

const triton = useTritonContractBackend();
const embedded = useEmbeddedContractBackend();

/**
 * The fields that name the runtime behind a model, the only ones allowed to differ: the test Triton serves
 * python-backend twins of the models (README "The test Triton"; it has no ONNX Runtime backend), so it
 * answers backend "python", platform "" and model.py where the embedded backend says what Triton's
 * onnxruntime backend says. Each side is checked against its own RuntimeFields instead.
 */
const RUNTIME_FIELDS = ['platform', 'backend', 'default_model_filename'] as const;

type Json = Readonly<Record<string, unknown>>;

/** Every model directory of model_repository/ (one with a config.pbtxt). */
const MODELS = readdirSync(MODEL_REPOSITORY)
  .filter((name) => statSync(join(MODEL_REPOSITORY, name, 'config.pbtxt'), { throwIfNoEntry: false })?.isFile() === true)
  .sort();

async function gatewayConfig(backend: ContractBackend, model: string): Promise<Json> {
  const response = await fetch(`${backend.gatewayUrl}/v2/models/${model}/config`);
  expect(response.status, `${backend.name} gateway GET /v2/models/${model}/config`).toBe(200);
  return (await response.json()) as Json;
}

/** The runtime fields checked against what the backend says it runs; the rest of the document, to compare. */
function withoutRuntime(document: Json, runtime: RuntimeFields, who: string): Json {
  expect({ platform: document['platform'], backend: document['backend'], default_model_filename: document['default_model_filename'] }, who).toEqual({
    platform: runtime.configPlatform,
    backend: runtime.backend,
    default_model_filename: runtime.defaultModelFilename,
  });
  const rest: Record<string, unknown> = { ...document };
  for (const field of RUNTIME_FIELDS) delete rest[field];
  return rest;
}

/** Triton's own JSON restricted to the fields `type` declares (what the gateway answers), recursively. */
function onProtoFields(json: Json, type: Type): Json {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(type.fields)) {
    const value = json[name];
    if (value === undefined) continue;
    const message = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    const project = (item: unknown): unknown => (message === undefined ? item : onProtoFields(item as Json, message));
    if (field instanceof protobuf.MapField) out[name] = Object.fromEntries(Object.entries(value as Json).map(([key, item]) => [key, project(item)]));
    else out[name] = field.repeated ? (value as unknown[]).map(project) : project(value);
  }
  return out;
}

/** Every path where the two documents differ, with both values: a readable failure. */
function differences(left: unknown, right: unknown, names: readonly [string, string], path = '$'): string[] {
  const bothObjects = typeof left === 'object' && left !== null && typeof right === 'object' && right !== null && Array.isArray(left) === Array.isArray(right);
  if (!bothObjects) return Object.is(left, right) ? [] : [`${path}: ${names[0]} ${JSON.stringify(left)}, ${names[1]} ${JSON.stringify(right)}`];
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].flatMap((key) => differences((left as Json)[key], (right as Json)[key], names, Array.isArray(left) ? `${path}[${key}]` : `${path}.${key}`));
}

describe('config parity: the embedded backend answers the config Triton answers', () => {
  it('covers model_repository/', () => {
    expect(MODELS).toEqual(expect.arrayContaining(['digits', 'text_topic']));
  });

  it.each(MODELS)('GET /v2/models/%s/config', async (model) => {
    const own = await triton.triton.request('GET', `/v2/models/${model}/config`);
    expect(own.status, `Triton's own GET /v2/models/${model}/config: ${own.body}`).toBe(200);
    const tritonOwn = onProtoFields(JSON.parse(own.body) as Json, modelConfigType());
    const throughTriton = await gatewayConfig(triton, model);
    const throughEmbedded = await gatewayConfig(embedded, model);
    expect(differences(tritonOwn, throughTriton, ["Triton's own", 'gateway on Triton']), 'the gateway on Triton').toEqual([]);
    const tritonRest = withoutRuntime(throughTriton, triton.runtime, 'on Triton');
    const embeddedRest = withoutRuntime(throughEmbedded, embedded.runtime, 'on the embedded backend');
    expect(differences(tritonRest, embeddedRest, ['Triton', 'embedded']), 'the embedded backend').toEqual([]);
  });
});
