// OPTIONS is answered by the gateway, not by express's router (which answered 200 text/html listing
// the methods): 204 with Allow on every path the gateway serves, 404 JSON ROUTE_NOT_FOUND elsewhere.
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../../support/fake-triton-gateway.ts';
import { errorOf } from '../../support/responses.ts';

const fixture = useFakeTritonGateway();

const options = (path: string) => fetch(`${fixture.gateway.url}${path}`, { method: 'OPTIONS' });

describe('OPTIONS', () => {
  it.each([
    ['/health', 'GET, HEAD, OPTIONS'],
    ['/v2/health/ready', 'GET, HEAD, OPTIONS'],
    ['/v2/models/fake_digits', 'GET, HEAD, OPTIONS'],
    ['/v2/models/fake_digits/versions/1/infer', 'POST, OPTIONS'],
    ['/v2/repository/index', 'POST, OPTIONS'],
    ['/openapi.json', 'GET, HEAD, OPTIONS'],
  ])('on %s: 204 with Allow: %s and no body', async (path, allow) => {
    const response = await options(path);
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe(allow);
    expect(await response.text()).toBe('');
  });

  it('on an unknown path: 404 JSON ROUTE_NOT_FOUND', async () => {
    const response = await options('/v2/nothing/here');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await errorOf(response)).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('the Allow of a 405 lists OPTIONS too', async () => {
    const response = await fetch(`${fixture.gateway.url}/health`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});

describe('refusals of requests without a body', () => {
  /** Status and Connection header of `method path` sent on a keep-alive connection. */
  const keptAlive = (method: string, path: string): Promise<string> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return new Promise<string>((resolve, reject) => {
      request(`${fixture.gateway.url}${path}`, { method, agent }, (res) => {
        res.resume().on('end', () => resolve(`${res.statusCode} ${res.headers.connection ?? ''}`));
      })
        .on('error', reject)
        .end();
    }).finally(() => agent.destroy());
  };

  it.each([
    ['GET', '/nope', '404'],
    ['DELETE', '/health', '405'],
    ['OPTIONS', '/v2/nothing/here', '404'],
  ])('%s %s: %s on a connection that stays open', async (method, path, status) => {
    expect(await keptAlive(method, path)).toBe(`${status} keep-alive`);
  });
});
