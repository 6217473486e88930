// Liveness never depends on Triton; readiness follows Triton, each served model, the breaker and
// draining, and says which check failed.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTriton } from '../support/fake-triton.ts';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import { readinessOf } from '../support/responses.ts';
import type { TestGateway } from '../support/gateway-harness.ts';

let triton: FakeTriton | undefined;
let gateway: TestGateway | undefined;

afterEach(async () => {
  await gateway?.close();
  await triton?.stop();
  gateway = undefined;
  triton = undefined;
});

async function readiness(url: string) {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, body: await readinessOf(response) };
}

describe('readiness and liveness', () => {
  it('is ready when Triton and every model are ready', async () => {
    triton = new FakeTriton();
    await triton.start();
    gateway = await startTestGateway(triton.address);
    expect(await readiness(gateway.url)).toMatchObject({ status: 200, body: { ready: true, reasons: [] } });
    expect((await fetch(`${gateway.url}/v2/health/ready`)).status).toBe(200);
  });

  it('answers 503 naming Triton when Triton reports not ready, while /health stays 200', async () => {
    triton = new FakeTriton();
    triton.serverReady = false;
    await triton.start();
    gateway = await startTestGateway(triton.address);
    const { status, body } = await readiness(gateway.url);
    expect(status).toBe(503);
    expect(body.reasons.join(' ')).toMatch(/triton reports not ready/);
    expect((await fetch(`${gateway.url}/v2/health/ready`)).status).toBe(503);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/v2/health/live`)).status).toBe(200);

    triton.serverReady = true;
    const url = gateway.url;
    await eventually(async () => (await readiness(url)).status === 200);
  });

  it('answers 503 naming the model that has no ready version', async () => {
    triton = new FakeTriton();
    triton.notReadyModels.add('fake_text');
    await triton.start();
    gateway = await startTestGateway(triton.address);
    const { status, body } = await readiness(gateway.url);
    expect(status).toBe(503);
    expect(body.reasons).toEqual(['model "fake_text" has no ready version']);
  });

  it('only requires the models listed in SERVED_MODELS', async () => {
    triton = new FakeTriton();
    triton.notReadyModels.add('fake_text');
    await triton.start();
    gateway = await startTestGateway(triton.address, { SERVED_MODELS: 'fake_digits' });
    expect((await readiness(gateway.url)).status).toBe(200);
  });

  it('answers 503 naming Triton when it cannot be reached, and /health stays 200', async () => {
    triton = new FakeTriton();
    await triton.start();
    const address = triton.address;
    await triton.stop();
    gateway = await startTestGateway(address);
    const { status, body } = await readiness(gateway.url);
    expect(status).toBe(503);
    expect(body.reasons.join(' ')).toMatch(/triton unreachable/);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it('exposes readiness and breaker state in /metrics', async () => {
    triton = new FakeTriton();
    await triton.start();
    gateway = await startTestGateway(triton.address);
    await fetch(`${gateway.url}/ready`);
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/^gateway_ready 1$/m);
    expect(text).toMatch(/^gateway_breaker_state 0$/m);
    expect(text).toMatch(/gateway_http_requests_total\{route="ready",method="GET",status="200",model=""\} 1/);
  });
});

describe('GET /v2/models/{m}/ready', () => {
  it('answers 200 for a ready model, 503 for a known model that is not ready, 404 for an unknown one', async () => {
    triton = new FakeTriton();
    triton.notReadyModels.add('fake_text');
    await triton.start();
    gateway = await startTestGateway(triton.address);
    expect((await fetch(`${gateway.url}/v2/models/fake_digits/ready`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/v2/models/fake_text/ready`)).status).toBe(503);
    const unknown = await fetch(`${gateway.url}/v2/models/nope/ready`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});

describe('nothing to serve', () => {
  it('is not ready when the backend has no model at all', async () => {
    triton = new FakeTriton();
    triton.models.clear();
    await triton.start();
    gateway = await startTestGateway(triton.address);
    const { status, body } = await readiness(gateway.url);
    expect(status).toBe(503);
    expect(body.reasons).toEqual(['no model is served']);
  });
});

describe('Triton turning not ready', () => {
  it('is reported after at most one poll of grace (a blip between two calls is absorbed, a state is not)', async () => {
    triton = new FakeTriton();
    await triton.start();
    // Only this test's pollNow() calls poll (no background poll in between).
    gateway = await startTestGateway(triton.address, { READINESS_POLL_INTERVAL_MS: '600000' });
    await gateway.gateway.monitor.pollNow();
    expect((await readiness(gateway.url)).status).toBe(200);
    triton.serverReady = false;
    await gateway.gateway.monitor.pollNow();
    expect((await readiness(gateway.url)).status).toBe(200);
    await gateway.gateway.monitor.pollNow();
    const { status, body } = await readiness(gateway.url);
    expect(status).toBe(503);
    expect(body.reasons).toEqual(['triton reports not ready']);
  });
});
