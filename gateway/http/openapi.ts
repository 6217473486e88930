// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the two
// cannot disagree. Built once at start-up. Each operation lists the error codes it can answer; their
// statuses, descriptions and Retry-After come from the error catalogue, so a status the gateway answers
// is a status the document names (test/fuzz/schemathesis.test.ts holds the gateway to it).
import { z } from 'zod';
import { inferRequestSchema } from '../contract/infer-request-schema.ts';
import {
  errorResponseSchema,
  inferResponseSchema,
  livenessSchema,
  modelMetadataSchema,
  modelReadinessSchema,
  readinessSchema,
  repositoryEntrySchema,
  repositoryIndexRequestSchema,
  serverMetadataSchema,
} from '../contract/infer-response-schema.ts';
import { ERROR_CATALOGUE, errorTable } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

type JsonObject = Record<string, unknown>;

const schema = (zodSchema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
};

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const BINARY = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };
const DIGITS = { type: 'string', pattern: '^[0-9]+$' };

/** Every answer carries the request id (kept from the request or made by the gateway). */
const REQUEST_ID_HEADER = { 'X-Request-Id': { description: 'The request id, for the logs.', required: true, schema: { type: 'string' } } };
const RETRY_AFTER_HEADER = { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: DIGITS } };

// Error codes by where they can arise; an operation answers the union of the groups it passes through.
// Where a code arises is the routes' knowledge, so it stays here; what it means and its status are the
// catalogue's. INTERNAL (a bug of ours) is in no group: a 500 is never a documented answer.
/** A request refused at the door once draining has begun (every route but probes and metrics). */
const GATED: readonly ErrorCode[] = ['SHUTTING_DOWN'];
/** A path parameter that is empty, does not URL-decode, or is not a version number. */
const PATH: readonly ErrorCode[] = ['INVALID_REQUEST'];
/** A body read (within the parse budget, while its bytes keep arriving) and parsed as JSON. */
const BODY: readonly ErrorCode[] = ['INVALID_JSON', 'INVALID_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'REQUEST_TIMEOUT', 'GATEWAY_BUSY'];
/** A call to the backend (Triton or embedded) and what its failures map to. */
const BACKEND: readonly ErrorCode[] = ['BACKEND_REJECTED', 'BACKEND_ERROR', 'MODEL_ERROR', 'BACKEND_UNSUPPORTED', 'BACKEND_UNAVAILABLE', 'CIRCUIT_OPEN', 'DEADLINE_EXCEEDED'];
/** A model looked up by name and version. */
const MODEL: readonly ErrorCode[] = ['MODEL_NOT_FOUND', 'MODEL_NOT_READY', ...BACKEND];
const INFER: readonly ErrorCode[] = [...GATED, ...PATH, ...BODY, ...MODEL, 'INVALID_INPUT', 'INVALID_OUTPUT', 'TOO_LARGE_TENSOR', 'RESPONSE_TOO_LARGE', 'QUEUE_FULL'];
const ADMIN: readonly ErrorCode[] = [...GATED, ...PATH, ...BACKEND, 'UNAUTHORIZED', 'ADMIN_DISABLED', 'MODEL_NOT_FOUND'];

interface ResponseObject {
  readonly description: string;
  readonly content?: Record<string, { schema: JsonObject }>;
  readonly headers?: Record<string, unknown>;
}

/**
 * The responses of an operation: its own answers, then one per status of `codes` with the Error body
 * (and Retry-After on 429 and 503). Where an own answer shares a status with an error (a model's
 * readiness body or an Error on 503), the JSON body is one of the two.
 */
function responses(own: Readonly<Record<string, ResponseObject>>, codes: readonly ErrorCode[]): Record<string, ResponseObject> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = String(ERROR_CATALOGUE[code].status);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const result: Record<string, ResponseObject> = {};
  for (const [status, answer] of Object.entries(own)) result[status] = { ...answer, headers: { ...REQUEST_ID_HEADER, ...answer.headers } };
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a.localeCompare(b))) {
    const description = statusCodes.map((code) => `${code}: ${ERROR_CATALOGUE[code].summary}`).join(' ');
    const retry = status === '429' || status === '503' ? RETRY_AFTER_HEADER : {};
    const existing = result[status];
    if (existing === undefined) {
      result[status] = { description, content: json('Error'), headers: { ...REQUEST_ID_HEADER, ...retry } };
      continue;
    }
    const ownSchema = existing.content?.['application/json']?.schema;
    result[status] = {
      description: `${existing.description}; or an error: ${description}`,
      content: { 'application/json': { schema: ownSchema === undefined ? ref('Error') : { oneOf: [ownSchema, ref('Error')] } } },
      headers: { ...REQUEST_ID_HEADER },
    };
  }
  return result;
}

const ok = (description: string, content?: ResponseObject['content']): ResponseObject => (content === undefined ? { description } : { description, content });

const modelParam = { name: 'model', in: 'path', required: true, schema: { type: 'string', minLength: 1 } };
const versionParam = { name: 'version', in: 'path', required: true, schema: { ...DIGITS, pattern: '^[0-9]{1,19}$' } };
const inferHeaders = [
  { name: 'Inference-Header-Content-Length', in: 'header', required: false, description: 'Binary tensor data extension: bytes of the JSON part.', schema: DIGITS },
  { name: 'X-Request-Timeout-Ms', in: 'header', required: false, description: 'This request\'s deadline, capped by REQUEST_TIMEOUT_MS.', schema: { type: 'string', pattern: '^[0-9]{1,9}$' } },
];

function modelPaths(suffix: string, operation: (parameters: readonly JsonObject[], versioned: boolean) => JsonObject): JsonObject {
  return {
    [`/v2/models/{model}${suffix}`]: operation([modelParam], false),
    [`/v2/models/{model}/versions/{version}${suffix}`]: operation([modelParam, versionParam], true),
  };
}

function readinessPath(summary: string): JsonObject {
  return { get: { summary, responses: responses({ '200': ok('ready', json('Readiness')), '503': ok('not ready; the body says which checks fail', json('Readiness')) }, []) } };
}

function livenessPath(summary: string): JsonObject {
  return { get: { summary, responses: responses({ '200': ok('alive', json('Liveness')) }, []) } };
}

function adminOperation(summary: string): JsonObject {
  return {
    post: {
      summary,
      security: [{ adminToken: [] }],
      parameters: [modelParam],
      responses: responses({ '200': ok('done', { 'application/json': { schema: { type: 'object', maxProperties: 0 } } }) }, ADMIN),
    },
  };
}

export function buildOpenApiDocument(version: string): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'triton-gateway',
      version,
      description: [
        'Open Inference Protocol (KServe v2) REST API in front of NVIDIA Triton Inference Server.',
        'The binary tensor data extension is supported both ways (Inference-Header-Content-Length).',
        '',
        errorTable(),
      ].join('\n'),
    },
    paths: {
      '/health': livenessPath('Liveness of the gateway process (never depends on the backend)'),
      '/v2/health/live': livenessPath('Liveness (protocol path)'),
      '/ready': readinessPath('Readiness: the backend ready, every served model ready, breaker not open, not draining'),
      '/v2/health/ready': readinessPath('Readiness (protocol path)'),
      '/v2': { get: { summary: 'Server metadata (from the backend)', responses: responses({ '200': ok('metadata', json('ServerMetadata')) }, [...GATED, ...BACKEND]) } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: responses({ '200': ok('text exposition format', { 'text/plain': { schema: { type: 'string' } } }) }, []) } },
      ...modelPaths('', (parameters) => ({
        get: { summary: 'Model metadata', parameters, responses: responses({ '200': ok('metadata', json('ModelMetadata')) }, [...GATED, ...PATH, ...MODEL]) },
      })),
      ...modelPaths('/ready', (parameters) => ({
        get: {
          summary: 'Model readiness',
          parameters,
          responses: responses({ '200': ok('ready', json('ModelReadiness')), '503': ok('known but not ready', json('ModelReadiness')) }, [...GATED, ...PATH, ...MODEL]),
        },
      })),
      ...modelPaths('/config', (parameters) => ({
        get: {
          summary: "Model configuration (Triton's ModelConfig as JSON)",
          parameters,
          responses: responses({ '200': ok('config', { 'application/json': { schema: { type: 'object' } } }) }, [...GATED, ...PATH, ...MODEL]),
        },
      })),
      ...modelPaths('/infer', (parameters, versioned) => ({
        post: {
          operationId: versioned ? 'inferVersion' : 'infer',
          summary: 'Run inference',
          parameters: [...parameters, ...inferHeaders],
          requestBody: { required: true, content: { ...json('InferRequest'), ...BINARY } },
          responses: responses({ '200': ok('outputs (binary when the request asked for binary outputs)', { ...json('InferResponse'), ...BINARY }) }, INFER),
        },
      })),
      '/v2/repository/index': {
        post: {
          summary: "Triton's model repository index",
          requestBody: { required: false, content: json('RepositoryIndexRequest') },
          responses: responses(
            { '200': ok('index', { 'application/json': { schema: { type: 'array', items: ref('RepositoryEntry') } } }) },
            [...GATED, ...BODY, ...BACKEND],
          ),
        },
      },
      '/v2/repository/models/{model}/load': adminOperation('Load (or reload) a model'),
      '/v2/repository/models/{model}/unload': adminOperation('Unload a model'),
    },
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
      schemas: {
        InferRequest: schema(inferRequestSchema, 'input'),
        InferResponse: schema(inferResponseSchema),
        Error: schema(errorResponseSchema.extend({ code: z.enum(Object.keys(ERROR_CATALOGUE) as ErrorCode[]) })),
        Liveness: schema(livenessSchema),
        ModelMetadata: schema(modelMetadataSchema),
        ModelReadiness: schema(modelReadinessSchema),
        ServerMetadata: schema(serverMetadataSchema),
        Readiness: schema(readinessSchema),
        RepositoryIndexRequest: schema(repositoryIndexRequestSchema, 'input'),
        RepositoryEntry: schema(repositoryEntrySchema),
      },
    },
  };
}
