// Explicit model control through the gateway, against a real tritonserver in explicit mode: load and
// unload need `Authorization: Bearer $ADMIN_TOKEN` (401 without a valid one, 403 when the gateway has no
// ADMIN_TOKEN), a refused call changes nothing in Triton, and an accepted unload shows at once in
// inference (503 MODEL_NOT_READY: the model exists, no version is ready) and in readiness.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, inferBodyOf, readinessOf } from '../support/responses.ts';
import { eventually, startTestGateway } from '../support/gateway-harness.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';

const ADMIN_TOKEN = 'model-control-test-token-0123456789';
const WRONG_TOKENS = [
  { what: 'a wrong token of the same length', header: `Bearer ${'x'.repeat(ADMIN_TOKEN.length)}` },
  { what: 'the token with one character more', header: `Bearer ${ADMIN_TOKEN}0` },
  { what: 'a prefix of the token', header: `Bearer ${ADMIN_TOKEN.slice(0, 16)}` },
  { what: 'the token under another scheme', header: `Basic ${ADMIN_TOKEN}` },
  { what: 'the bare token without a scheme', header: ADMIN_TOKEN },
  { what: 'an empty bearer', header: 'Bearer ' },
] as const;
const TEXT_REQUEST = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['The goalkeeper saved a penalty in the last minute'] }] };
const DIGITS_REQUEST = { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, (_, index) => index % 17) }] };
const BROKEN_MODEL = 'broken_digits';
const REPEATED_LOADS = 10;
/** The README's defaults for the breaker and the readiness poller (the test harness's are much tighter). */
const README_DEFAULTS = {
  READINESS_POLL_INTERVAL_MS: '2000',
  BREAKER_VOLUME_THRESHOLD: '5',
  BREAKER_ERROR_THRESHOLD_PERCENT: '50',
  BREAKER_ROLLING_WINDOW_MS: '10000',
  BREAKER_RESET_TIMEOUT_MS: '5000',
};
/** Triton's log lines that say a model was (re)loaded or unloaded. */
const LIFECYCLE_LINE = /loading: text_topic|unloading: text_topic|successfully (un)?loaded 'text_topic'/g;

const real = useRealTriton({ server: { modelControl: 'explicit', loadModels: ['digits', 'text_topic'] } });
/** ADMIN_TOKEN set, SERVED_MODELS=digits,text_topic. */
let admin: TestGateway | undefined;
/** No ADMIN_TOKEN, SERVED_MODELS unset (every model of the index that an operator did not unload). */
let noAdmin: TestGateway | undefined;

beforeAll(async () => {
  // Dropped into the repository after the start, as an operator would before loading it (explicit mode).
  await addBrokenModel(real.twin.path);
  [admin, noAdmin] = await Promise.all([
    startTestGateway(real.triton.grpcAddress, { ADMIN_TOKEN, SERVED_MODELS: 'digits,text_topic' }),
    startTestGateway(real.triton.grpcAddress),
  ]);
  for (const gateway of [admin, noAdmin]) {
    const url = gateway.url;
    await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 15_000, 50);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([admin?.close(), noAdmin?.close()]);
});

describe('model control through the gateway (Triton in explicit mode)', () => {
  it('without a valid token: 401 for unload and load, and nothing changes in Triton', async () => {
    const logFrom = real.triton.log().length;
    const attempts: { what: string; header: string | undefined }[] = [{ what: 'no Authorization header', header: undefined }, ...WRONG_TOKENS];
    for (const action of ['unload', 'load'] as const) {
      for (const attempt of attempts) {
        const response = await control(requireGateway(admin), action, 'text_topic', attempt.header);
        const what = `${action} with ${attempt.what}`;
        expect(response.status, what).toBe(401);
        expect(response.headers.get('www-authenticate'), what).toMatch(/^Bearer/);
        const error = await errorOf(response);
        expect(error.code, what).toBe('UNAUTHORIZED');
        expect(error.error, what).not.toContain(ADMIN_TOKEN.slice(0, 16));
      }
    }
    await expectNothingChanged(logFrom);
  });

  it('a gateway without ADMIN_TOKEN: 403 for both endpoints, with or without a token, and nothing changes', async () => {
    const logFrom = real.triton.log().length;
    for (const action of ['unload', 'load'] as const) {
      for (const header of [undefined, `Bearer ${ADMIN_TOKEN}`]) {
        const response = await control(requireGateway(noAdmin), action, 'text_topic', header);
        const what = `${action}, Authorization ${header === undefined ? 'absent' : 'with the other gateway\'s token'}`;
        expect(response.status, what).toBe(403);
        expect((await errorOf(response)).code, what).toBe('ADMIN_DISABLED');
      }
    }
    await expectNothingChanged(logFrom);
  });

  it('with the token: unload is 200, then infer is 503 MODEL_NOT_READY and /ready names the model; load brings it back', async () => {
    const gateway = requireGateway(admin);

    const unload = await control(gateway, 'unload', 'text_topic', `Bearer ${ADMIN_TOKEN}`);
    expect({ status: unload.status, body: await unload.text() }).toEqual({ status: 200, body: '{}' });
    await eventually(async () => (await tritonState('text_topic')) === 'UNAVAILABLE unloaded', 10_000, 50);

    // The model is still in the repository (the index lists it), it only has no ready version: by
    // DESIGN.md and the README error table that is 503 MODEL_NOT_READY with Retry-After, not 404.
    const refused = await infer(gateway, 'text_topic', TEXT_REQUEST);
    const refusedBody = await refused.text();
    // Soft: the rest of the round trip is worth seeing even when this is wrong.
    expect.soft({ status: refused.status, body: refusedBody }).toEqual({ status: 503, body: expect.stringContaining('"code":"MODEL_NOT_READY"') });
    expect.soft(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(JSON.parse(refusedBody)).toMatchObject({ error: expect.stringContaining('text_topic') });
    const ready = await fetch(`${gateway.url}/v2/models/text_topic/ready`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 503, body: { name: 'text_topic', ready: false } });
    // The other model is untouched.
    expect((await infer(gateway, 'digits', DIGITS_REQUEST)).status).toBe(200);

    // SERVED_MODELS names text_topic: the gateway is not ready, and says why.
    // (Triton itself reports not ready while the model is UNLOADING; once it is unloaded, text_topic is the one reason.)
    const expected = { ready: false, reasons: ['model "text_topic" has no ready version'], models: { digits: 'ready', text_topic: 'not ready' } };
    let seen: unknown;
    await eventually(async () => {
      const report = await readinessOf(await fetch(`${gateway.url}/ready`));
      seen = { ready: report.ready, reasons: report.reasons, models: report.checks['models'] };
      return JSON.stringify(seen) === JSON.stringify(expected);
    }, 5_000, 50).catch(() => expect(seen, 'the admin gateway\'s /ready').toEqual(expected));
    // SERVED_MODELS unset: a model an operator unloaded is not required, so that gateway stays ready.
    const other = requireGateway(noAdmin).url;
    await eventually(async () => (await fetch(`${other}/ready`)).status === 200, 5_000, 50);
    expect((await readinessOf(await fetch(`${other}/ready`))).checks['models']).toEqual({ digits: 'ready' });

    const load = await control(gateway, 'load', 'text_topic', `Bearer ${ADMIN_TOKEN}`);
    expect({ status: load.status, body: await load.text() }).toEqual({ status: 200, body: '{}' });
    expect(await tritonState('text_topic')).toBe('READY');
    // Load answers once Triton has the model ready: the very next request is served.
    const served = await infer(gateway, 'text_topic', TEXT_REQUEST);
    expect(served.status).toBe(200);
    expect((await inferBodyOf(served)).outputs.find((output) => output.name === 'label')?.data).toEqual(['sports']);
    await eventually(async () => (await fetch(`${gateway.url}/ready`)).status === 200, 5_000, 50);
    await eventually(async () => JSON.stringify((await readinessOf(await fetch(`${other}/ready`))).checks['models']) === JSON.stringify({ digits: 'ready', text_topic: 'ready' }), 5_000, 50);
  });

  // An operator's mistake is not a sick Triton: whatever load answers, it must not feed the circuit
  // breaker, or a retry loop on a typo takes every model down. A gateway with the README's default
  // breaker and readiness settings (the test harness polls so often that its successes hide this).
  it('load of a model that is not in the repository: 404 every time, and the breaker stays closed', async () => {
    await withReadmeDefaults(async (gateway) => {
      const answers: string[] = [];
      for (let attempt = 0; attempt < REPEATED_LOADS; attempt++) {
        const response = await control(gateway, 'load', 'no_such_model', `Bearer ${ADMIN_TOKEN}`);
        answers.push(`${response.status} ${await response.text()}`);
      }
      expect.soft(answers.map((answer) => answer.replace(/ .*/, '')), answers.join('\n')).toEqual(Array(REPEATED_LOADS).fill('404'));
      expect(answers.filter((answer) => answer.includes('CIRCUIT_OPEN')), answers.join('\n')).toEqual([]);
      await expectStillServing(gateway);
    });
  });

  it('load of a model whose version cannot load: refused with the reason, the breaker stays closed, and /ready is unchanged', async () => {
    await withReadmeDefaults(async (gateway) => {
      const answers: { status: number; body: string }[] = [];
      for (let attempt = 0; attempt < REPEATED_LOADS; attempt++) {
        const response = await control(gateway, 'load', BROKEN_MODEL, `Bearer ${ADMIN_TOKEN}`);
        answers.push({ status: response.status, body: await response.text() });
      }
      const story = answers.map((answer) => `${answer.status} ${answer.body}`).join('\n');
      for (const answer of answers) {
        expect(answer.status, story).not.toBe(200);
        expect(answer.body, story).not.toContain('CIRCUIT_OPEN');
        expect(answer.body, story).toContain(BROKEN_MODEL);
      }
      expect(await tritonState(BROKEN_MODEL)).toMatch(/^UNAVAILABLE /);
      await expectStillServing(gateway);
    });
    // A model that never loaded is not one the gateway must wait for (README: SERVED_MODELS default).
    // (Bounded wait: the last poll may have seen the last attempt still LOADING.)
    for (const other of [requireGateway(admin), requireGateway(noAdmin)]) {
      let seen: unknown;
      await eventually(async () => {
        const report = await readinessOf(await fetch(`${other.url}/ready`));
        seen = { ready: report.ready, reasons: report.reasons };
        return report.ready;
      }, 3_000, 50).catch(() => expect(seen, `${other.url}/ready`).toEqual({ ready: true, reasons: [] }));
    }
  });
});

/** A gateway of its own (so one test's breaker cannot leak into the next) with the README's defaults. */
async function withReadmeDefaults(work: (gateway: TestGateway) => Promise<void>): Promise<void> {
  const gateway = await startTestGateway(real.triton.grpcAddress, { ADMIN_TOKEN, SERVED_MODELS: 'digits,text_topic', ...README_DEFAULTS });
  try {
    await work(gateway);
  } finally {
    await gateway.close();
  }
}

/** Inference works and /ready is 200 with the breaker closed. */
async function expectStillServing(gateway: TestGateway): Promise<void> {
  const served = await infer(gateway, 'digits', DIGITS_REQUEST);
  expect({ status: served.status, body: served.status === 200 ? '' : await served.text() }).toEqual({ status: 200, body: '' });
  const report = await readinessOf(await fetch(`${gateway.url}/ready`));
  expect({ ready: report.ready, reasons: report.reasons, breaker: report.checks['breaker'] }, `${gateway.url}/ready`).toEqual({ ready: true, reasons: [], breaker: 'closed' });
}

/** A model in the repository whose only version has a model.onnx that is not ONNX (explicit mode: not loaded at start). */
async function addBrokenModel(repository: string): Promise<void> {
  const config = await readFile(join(repository, 'digits', 'config.pbtxt'), 'utf8');
  await mkdir(join(repository, BROKEN_MODEL, '1'), { recursive: true });
  await writeFile(join(repository, BROKEN_MODEL, 'config.pbtxt'), config.replace('name: "digits"', `name: "${BROKEN_MODEL}"`));
  await copyFile(join(repository, 'digits', '2', 'model.py'), join(repository, BROKEN_MODEL, '1', 'model.py'));
  await writeFile(join(repository, BROKEN_MODEL, '1', 'model.onnx'), 'not an ONNX model\n');
}

/** text_topic is still loaded and served, and Triton logged no load or unload of it since `logFrom`. */
async function expectNothingChanged(logFrom: number): Promise<void> {
  expect(await tritonState('text_topic')).toBe('READY');
  const response = await infer(requireGateway(admin), 'text_topic', TEXT_REQUEST);
  expect(response.status).toBe(200);
  expect((await inferBodyOf(response)).outputs.find((output) => output.name === 'label')?.data).toEqual(['sports']);
  expect((await fetch(`${requireGateway(admin).url}/ready`)).status).toBe(200);
  expect(real.triton.log().slice(logFrom).match(LIFECYCLE_LINE) ?? [], 'Triton log lines about text_topic').toEqual([]);
}

function control(gateway: TestGateway, action: 'load' | 'unload', model: string, authorization: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers['authorization'] = authorization;
  return fetch(`${gateway.url}/v2/repository/models/${model}/${action}`, { method: 'POST', headers, body: '{}' });
}

function infer(gateway: TestGateway, model: string, body: unknown): Promise<Response> {
  return fetch(`${gateway.url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** "READY", "UNAVAILABLE unloaded"... of the model's entry in Triton's own repository index. */
async function tritonState(model: string): Promise<string> {
  const answer = await real.triton.request('POST', '/v2/repository/index', {});
  if (answer.status !== 200) throw new Error(`Triton POST /v2/repository/index: HTTP ${answer.status} ${answer.body}`);
  const entries = (JSON.parse(answer.body) as { name: string; state?: string; reason?: string }[]).filter((entry) => entry.name === model);
  return entries.map((entry) => [entry.state ?? '', entry.reason ?? ''].join(' ').trim()).join(', ');
}

function requireGateway(gateway: TestGateway | undefined): TestGateway {
  if (gateway === undefined) throw new Error('gateway not started');
  return gateway;
}
