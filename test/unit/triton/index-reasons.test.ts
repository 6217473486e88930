// The repository index passes on Triton's reasons without its server paths, Python tracebacks or
// addresses (as every other Triton answer a client reads).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTriton } from '../../support/fake-triton.ts';
import { startTestGateway } from '../../support/gateway-harness.ts';
import type { TestGateway } from '../../support/gateway-harness.ts';

let triton: FakeTriton;
let gateway: TestGateway;

beforeEach(async () => {
  triton = new FakeTriton();
  await triton.start();
  gateway = await startTestGateway(triton.address, { READINESS_POLL_INTERVAL_MS: '60000' });
});

afterEach(async () => {
  await gateway.close();
  await triton.stop();
});

describe('POST /v2/repository/index', () => {
  it("shows Triton's reasons without server paths, tracebacks or addresses", async () => {
    triton.notReadyModels.add('fake_text');
    triton.indexReasons.set('fake_text', "failed to load 'fake_text': /opt/models/fake_text/1/model.py cannot reach db.internal:5432\nAt:\n  /opt/tritonserver/backends/python/model.py(12): initialize\n");
    const response = await fetch(`${gateway.url}/v2/repository/index`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(200);
    const entries = (await response.json()) as { name: string; reason?: string }[];
    const reason = entries.find((entry) => entry.name === 'fake_text')?.reason;
    expect(reason).toBe("failed to load 'fake_text': <path> cannot reach <address>");
  });
});
