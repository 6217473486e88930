// Fuzzing from the OpenAPI document: schemathesis generates requests for every operation of
// /openapi.json (valid ones, and ones that break the schema on purpose) and checks every answer: no 5xx,
// a documented status, Content-Type and headers, a body that matches the documented schema, 405 with
// Allow for other methods, 401 without the admin token. Both backends: the embedded one and the real
// Triton. Bounded and seeded (the same cases each run); a failure prints schemathesis's report, with
// a curl line per failing case.
//
// The admin endpoints are on (ADMIN_TOKEN set) but schemathesis does not get the token: with it, it
// unloads the models, and the 503 MODEL_NOT_READY that follows is right, yet counts as a server error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';
import { failureReport, provisionSchemathesis, runSchemathesis } from './schemathesis-runner.ts';

/**
 * About 1,100 cases per run, 40-60 s on a busy 2-core machine. FUZZ_MAX_EXAMPLES and FUZZ_SEED search
 * further by hand (e.g. FUZZ_MAX_EXAMPLES=100: about 4 minutes per run).
 */
const FUZZ = {
  maxExamples: Number(process.env['FUZZ_MAX_EXAMPLES'] ?? '25'),
  seed: Number(process.env['FUZZ_SEED'] ?? '20261130'),
  timeoutMs: 150_000 * Math.max(1, Number(process.env['FUZZ_MAX_EXAMPLES'] ?? '25') / 25),
} as const;
const RUN_TIMEOUT_MS = FUZZ.timeoutMs + 20_000;
const PROVISION_TIMEOUT_MS = 300_000;
/**
 * Deadlines far above the tests' 2 s: this test is about answers, not timing, and a 504 from a machine
 * busy with other test files would read as a server error.
 */
const GATEWAY_ENV = { ADMIN_TOKEN: 'fuzz-admin-token-not-given-to-schemathesis', REQUEST_TIMEOUT_MS: '10000', TRITON_CONTROL_TIMEOUT_MS: '5000' } as const;

beforeAll(provisionSchemathesis, PROVISION_TIMEOUT_MS);

async function expectCleanRun(gateway: TestGateway): Promise<void> {
  const run = await runSchemathesis(gateway.url, FUZZ);
  expect(run.code, `schemathesis found problems (exit ${run.code}):\n${failureReport(run)}`).toBe(0);
  // A run that tested nothing would also exit 0.
  expect(run.output).toMatch(/Tested: [1-9]/);
  // The figures of the run (operations, cases generated, checks), printed for the README's Reliability section.
  const summary = run.output.split('\n').filter((line) => /Tested:|Test cases:|Seed:|passed|generated|Checks|Operations/i.test(line));
  console.log(`schemathesis against ${gateway.gateway.backend.kind}:\n${summary.join('\n')}`);
}

describe('schemathesis against the embedded backend', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway(undefined, GATEWAY_ENV);
  });
  afterAll(async () => gateway?.close());

  it('finds no 5xx and no answer outside the documented schema', async () => expectCleanRun(gateway), RUN_TIMEOUT_MS);
});

describe('schemathesis against the gateway in front of the real Triton', () => {
  const real = useRealTriton({ server: { modelControl: 'explicit', loadModels: ['digits', 'text_topic'] } });
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway(real.triton.grpcAddress, GATEWAY_ENV);
  });
  afterAll(async () => gateway?.close());

  it('finds no 5xx and no answer outside the documented schema', async () => expectCleanRun(gateway), RUN_TIMEOUT_MS);
});
