// Every error code a route can answer is documented on that route, under its catalogue status: a new
// code that no operation lists fails here at once (the fuzz test, test/fuzz/, would find it only when
// it generates a request that gets it).
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../../gateway/errors.ts';
import type { ErrorCode } from '../../../gateway/errors.ts';
import { buildOpenApiDocument } from '../../../gateway/http/openapi.ts';

/** Codes no documented operation answers: unknown paths, wrong methods, a client that left, and a bug of ours. */
const NOT_OF_AN_OPERATION: readonly ErrorCode[] = ['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED', 'REQUEST_CANCELLED', 'INTERNAL'];

interface Operation {
  readonly responses: Record<string, { description: string; headers?: Record<string, unknown> }>;
}

const document = buildOpenApiDocument('test') as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ label: `${method} ${path}`, operation })));

describe('the OpenAPI document names every error code under its status', () => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    if (NOT_OF_AN_OPERATION.includes(code)) continue;
    it(code, () => {
      const status = String(ERROR_CATALOGUE[code].status);
      const documentedBy = operations.filter(({ operation }) => operation.responses[status]?.description.includes(`${code}:`));
      expect(documentedBy.map(({ label }) => label)).not.toEqual([]);
    });
  }

  it('every answer has X-Request-Id, and every 429 and 503 error Retry-After', () => {
    for (const { label, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.headers?.['X-Request-Id'], `${label} ${status}`).toBeDefined();
        const anError = /[A-Z_]+: /.test(response.description) && !response.description.includes('; or an error');
        if ((status === '429' || status === '503') && anError) expect(response.headers?.['Retry-After'], `${label} ${status}`).toBeDefined();
      }
    }
  });

  it('the infer operations answer every code of a request that reaches the model', () => {
    const infer = operations.find(({ label }) => label === 'post /v2/models/{model}/infer')?.operation;
    for (const code of ['INVALID_INPUT', 'QUEUE_FULL', 'DEADLINE_EXCEEDED', 'MODEL_ERROR', 'CIRCUIT_OPEN', 'SHUTTING_DOWN'] as const) {
      expect(infer?.responses[String(ERROR_CATALOGUE[code].status)]?.description, code).toContain(`${code}:`);
    }
  });
});
