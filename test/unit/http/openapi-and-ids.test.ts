// The OpenAPI document is generated from the zod schemas; request ids are kept or made, and returned.
import { describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../../support/fake-triton-gateway.ts';

const fixture = useFakeTritonGateway();

describe('GET /openapi.json', () => {
  it('describes infer with the request schema generated from zod', async () => {
    const document = (await (await fetch(`${fixture.gateway.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string }>>;
      components: { schemas: Record<string, { properties?: Record<string, { items?: { properties?: Record<string, { enum?: string[] }> } }> }> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.paths['/v2/models/{model}/infer']?.['post']?.operationId).toBe('infer');
    expect(document.paths['/v2/models/{model}/versions/{version}/infer']?.['post']).toBeDefined();
    const datatype = document.components.schemas['InferRequest']?.properties?.['inputs']?.items?.properties?.['datatype'];
    expect(datatype?.enum).toContain('BF16');
    expect(datatype?.enum).toHaveLength(14);
  });
});

describe('request ids', () => {
  it('keeps a valid X-Request-Id and returns it', async () => {
    const response = await fetch(`${fixture.gateway.url}/health`, { headers: { 'x-request-id': 'client-abc.1' } });
    expect(response.headers.get('x-request-id')).toBe('client-abc.1');
  });

  it('replaces an unsafe X-Request-Id with a generated one', async () => {
    const response = await fetch(`${fixture.gateway.url}/health`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('admin endpoints without ADMIN_TOKEN', () => {
  it('are off (403) and change nothing', async () => {
    const response = await fetch(`${fixture.gateway.url}/v2/repository/models/fake_text/unload`, { method: 'POST' });
    expect(response.status).toBe(403);
    expect(fixture.triton.count('RepositoryModelUnload')).toBe(0);
  });
});
