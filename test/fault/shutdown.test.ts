// Graceful shutdown of the real process: on SIGTERM readiness turns false at once, new requests are
// refused with 503, the request in flight still gets its answer, and the process exits 0.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTriton } from '../support/fake-triton.ts';
import { startGatewayProcess } from '../support/gateway-process.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { errorOf, inferBodyOf, readinessOf } from '../support/responses.ts';
import { eventually } from '../support/gateway-harness.ts';

let triton: FakeTriton | undefined;
let gateway: GatewayProcess | undefined;

afterEach(async () => {
  if (gateway !== undefined && gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  await triton?.stop();
});

const body = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
const infer = (url: string) => fetch(`${url}/v2/models/fake_digits/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe.each(['SIGTERM', 'SIGINT'] as const)('%s', (signal) => {
  it('drains: in-flight request answered, new ones refused, readiness false, exit 0', async () => {
    triton = new FakeTriton();
    await triton.start();
    gateway = await startGatewayProcess(triton.address, { SHUTDOWN_GRACE_MS: '10000' });
    const url = gateway.url;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200);
    expect((await infer(url)).status).toBe(200);

    triton.inferDelayMs = 1000;
    const inFlight = infer(url);
    await eventually(() => triton?.count('ModelInfer') === 2);
    gateway.child.kill(signal);

    await eventually(async () => (await fetch(`${url}/ready`)).status === 503, 2000, 10);
    const ready = await readinessOf(await fetch(`${url}/ready`));
    expect(ready.reasons).toContain('gateway is draining (shutting down)');
    const refused = await infer(url);
    expect(refused.status).toBe(503);
    expect(await errorOf(refused)).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect((await fetch(`${url}/health`)).status).toBe(200);

    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect((await inferBodyOf(answered)).outputs[0]?.data).toEqual([2, 4, 6, 8]);
    expect(await gateway.exited).toBe(0);
    expect(gateway.output()).toMatch(/"drained":true[^\n]*"msg":"gateway stopped"/);
  });
});

describe('grace period', () => {
  it('exits 0 after SHUTDOWN_GRACE_MS even when a request is stuck, answering it 503', async () => {
    triton = new FakeTriton();
    await triton.start();
    gateway = await startGatewayProcess(triton.address, { SHUTDOWN_GRACE_MS: '300', REQUEST_TIMEOUT_MS: '20000' });
    const url = gateway.url;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200);
    triton.inferDelayMs = 10_000;
    const stuck = infer(url).then(async (response) => [response.status, (await errorOf(response)).code], () => 'connection closed');
    await eventually(() => triton?.count('ModelInfer') === 1);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(await stuck).toEqual([503, 'SHUTTING_DOWN']);
    expect(gateway.output()).toMatch(/grace period over/);
    expect(triton.count('ModelInfer')).toBe(1);
  });
});
