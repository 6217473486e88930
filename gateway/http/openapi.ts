// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, so the two
// cannot disagree. Built once at start-up.
import { z } from 'zod';
import { inferRequestSchema } from '../contract/infer-request-schema.ts';
import {
  errorResponseSchema,
  inferResponseSchema,
  modelMetadataSchema,
  readinessSchema,
  repositoryEntrySchema,
  repositoryIndexRequestSchema,
  serverMetadataSchema,
} from '../contract/infer-response-schema.ts';
import { ERROR_CATALOGUE } from '../errors.ts';

type JsonObject = Record<string, unknown>;

const schema = (zodSchema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
};

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const errorResponse = (description: string) => ({ description, content: json('Error') });

const modelParams = [
  { name: 'model', in: 'path', required: true, schema: { type: 'string' } },
];
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } };

function modelPaths(suffix: string, operation: (versioned: boolean) => JsonObject): JsonObject {
  return {
    [`/v2/models/{model}${suffix}`]: operation(false),
    [`/v2/models/{model}/versions/{version}${suffix}`]: operation(true),
  };
}

const commonErrors = {
  '404': errorResponse('Unknown model or version (MODEL_NOT_FOUND).'),
  '503': errorResponse('Triton unavailable, breaker open, model not ready or gateway draining; see Retry-After.'),
};

export function buildOpenApiDocument(version: string): JsonObject {
  const errorCodes = Object.entries(ERROR_CATALOGUE).map(([code, { status, summary }]) => `| ${code} | ${status} | ${summary} |`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'triton-gateway',
      version,
      description: [
        'Open Inference Protocol (KServe v2) REST API in front of NVIDIA Triton Inference Server.',
        'The binary tensor data extension is supported both ways (Inference-Header-Content-Length).',
        '',
        '| code | status | meaning |',
        '|---|---|---|',
        ...errorCodes,
      ].join('\n'),
    },
    paths: {
      '/health': { get: { summary: 'Liveness of the gateway process (never depends on Triton)', responses: { '200': { description: 'alive' } } } },
      '/v2/health/live': { get: { summary: 'Liveness (protocol path)', responses: { '200': { description: 'alive' } } } },
      '/ready': {
        get: {
          summary: 'Readiness: Triton ready, every served model ready, breaker not open, not draining',
          responses: { '200': { description: 'ready', content: json('Readiness') }, '503': { description: 'not ready; body says why', content: json('Readiness') } },
        },
      },
      '/v2/health/ready': {
        get: { summary: 'Readiness (protocol path)', responses: { '200': { description: 'ready', content: json('Readiness') }, '503': { description: 'not ready', content: json('Readiness') } } },
      },
      '/v2': { get: { summary: 'Server metadata (from Triton)', responses: { '200': { description: 'metadata', content: json('ServerMetadata') }, '503': commonErrors['503'] } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      ...modelPaths('', (versioned) => ({
        get: { summary: 'Model metadata', parameters: versioned ? [...modelParams, versionParam] : modelParams, responses: { '200': { description: 'metadata', content: json('ModelMetadata') }, ...commonErrors } },
      })),
      ...modelPaths('/ready', (versioned) => ({
        get: { summary: 'Model readiness', parameters: versioned ? [...modelParams, versionParam] : modelParams, responses: { '200': { description: 'ready' }, ...commonErrors } },
      })),
      ...modelPaths('/config', (versioned) => ({
        get: { summary: "Model configuration (Triton's ModelConfig as JSON)", parameters: versioned ? [...modelParams, versionParam] : modelParams, responses: { '200': { description: 'config' }, ...commonErrors } },
      })),
      ...modelPaths('/infer', (versioned) => ({
        post: {
          operationId: versioned ? 'inferVersion' : 'infer',
          summary: 'Run inference',
          parameters: versioned ? [...modelParams, versionParam] : modelParams,
          requestBody: { required: true, content: { ...json('InferRequest'), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          responses: {
            '200': { description: 'outputs', content: { ...json('InferResponse'), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
            '400': errorResponse('Malformed request or input not matching the model; the message names the field.'),
            '413': errorResponse('Body over BODY_LIMIT_BYTES.'),
            '415': errorResponse('Unsupported Content-Type.'),
            '502': errorResponse('Triton failed internally.'),
            '504': errorResponse('No answer before the deadline.'),
            ...commonErrors,
          },
        },
      })),
      '/v2/repository/index': {
        post: {
          summary: "Triton's model repository index",
          requestBody: { required: false, content: json('RepositoryIndexRequest') },
          responses: { '200': { description: 'index', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/RepositoryEntry' } } } } } },
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
        Error: schema(errorResponseSchema),
        ModelMetadata: schema(modelMetadataSchema),
        ServerMetadata: schema(serverMetadataSchema),
        Readiness: schema(readinessSchema),
        RepositoryIndexRequest: schema(repositoryIndexRequestSchema, 'input'),
        RepositoryEntry: schema(repositoryEntrySchema),
      },
    },
  };
}

function adminOperation(summary: string): JsonObject {
  return {
    post: {
      summary,
      security: [{ adminToken: [] }],
      parameters: modelParams,
      responses: {
        '200': { description: 'done' },
        '401': errorResponse('Missing or wrong bearer token.'),
        '403': errorResponse('ADMIN_TOKEN not set: model control is off.'),
      },
    },
  };
}
