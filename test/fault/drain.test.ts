// Drains that lose nothing: the gateway runs as a real child process under 64 keep-alive clients that
// send one request after another, and is SIGTERMed mid-load. Every request must get an HTTP answer:
// 200 (served) or 503 SHUTTING_DOWN with Connection: close (the client goes elsewhere); none may be
// reset or left unanswered, and the process exits 0 within its grace. With a slow fake Triton (many
// requests in flight at the signal) and with the real Triton (the proof).
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { digitsJsonBody } from '../../bench/settings.ts';
import { FINAL_ANSWER_WAIT_MS } from '../../gateway/config.ts';
import { FakeTriton } from '../support/fake-triton.ts';
import { eventually } from '../support/gateway-harness.ts';
import { startGatewayProcess } from '../support/gateway-process.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { startKeepAliveLoad } from '../support/keepalive-clients.ts';
import type { Counted } from '../support/keepalive-clients.ts';
import { useRealTriton } from '../support/real-triton/real-triton-fixture.ts';

const CLIENTS = 64;
const GRACE_MS = 8000;
const LAME_DUCK_MS = 1000;
/** Answers served before the signal, so the signal lands mid-load on warm keep-alive connections. */
const WARM_ANSWERS = 200;
/** Starting a node process and its exit are not part of the drain; this much slack covers them. */
const PROCESS_SLACK_MS = 3000;

const real = useRealTriton({ twin: { models: { digits: [1] } }, server: { modelControl: 'none' } });
let triton: FakeTriton | undefined;
let gateway: GatewayProcess | undefined;

afterEach(async () => {
  if (gateway !== undefined && gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  gateway = undefined;
  await triton?.stop();
  triton = undefined;
});

const DRAIN_ENV = {
  SHUTDOWN_GRACE_MS: String(GRACE_MS),
  SHUTDOWN_LAME_DUCK_MS: String(LAME_DUCK_MS),
  REQUEST_TIMEOUT_MS: '10000',
  MAX_INFLIGHT_BATCHES: '16',
};

async function drainUnderLoad(tritonAddress: string, path: string, body: string): Promise<{ counted: Counted; exitCode: number | string; exitMs: number }> {
  gateway = await startGatewayProcess(tritonAddress, DRAIN_ENV);
  const { url, child } = gateway;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 10_000, 50);
  const load = startKeepAliveLoad({ url, path, body, clients: CLIENTS, guardMs: GRACE_MS + FINAL_ANSWER_WAIT_MS + PROCESS_SLACK_MS });
  await eventually(() => load.answered() >= WARM_ANSWERS, 15_000, 5);
  const signalled = performance.now();
  child.kill('SIGTERM');
  const exitCode = await gateway.exited;
  const exitMs = performance.now() - signalled;
  load.stop();
  const counted = await load.done;
  return { counted, exitCode, exitMs };
}

function expectNothingLost({ counted, exitCode, exitMs }: { counted: Counted; exitCode: number | string; exitMs: number }): void {
  const { counts, problems } = counted;
  // Printed so a run shows the figures (and a failure shows what went wrong).
  console.log(`drain under ${CLIENTS} keep-alive clients: ${JSON.stringify(counts)}, exit ${String(exitCode)} after ${Math.round(exitMs)} ms`);
  expect(problems.slice(0, 5)).toEqual([]);
  expect(counts).toMatchObject({ reset: 0, unanswered: 0, refused: 0, other_status: 0, shutting_down_kept_open: 0 });
  // Every client ended with an honest refusal on a connection that closes, not with a broken socket.
  expect(counts.shutting_down).toBe(CLIENTS);
  expect(counts.ok).toBeGreaterThanOrEqual(WARM_ANSWERS);
  expect(exitCode).toBe(0);
  expect(exitMs).toBeLessThan(GRACE_MS + FINAL_ANSWER_WAIT_MS + PROCESS_SLACK_MS);
}

describe('SIGTERM under 64 keep-alive clients', () => {
  it('with a slow (fake) Triton: in-flight requests served, the rest refused with 503 + Connection: close, none reset', async () => {
    triton = new FakeTriton();
    triton.inferDelayMs = 100;
    await triton.start();
    const body = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    expectNothingLost(await drainUnderLoad(triton.address, '/v2/models/fake_digits/infer', body));
  }, 40_000);

  it('with the real Triton: nothing lost', async () => {
    expectNothingLost(await drainUnderLoad(real.triton.grpcAddress, '/v2/models/digits/infer', digitsJsonBody));
  }, 40_000);
});

/** One request (on a fresh connection unless `agent` is given): status, code and Connection header, or the socket error. */
function freshRequest(url: string, agent: Agent | false = false): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${url}/v2/models/fake_digits/infer`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve(`${res.statusCode} ${/"code":"(\w+)"/.exec(text)?.[1] ?? ''} connection=${res.headers.connection ?? ''}`));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end('{}');
  });
}

describe('lame duck', () => {
  it('keeps answering new connections (503 + Connection: close) for SHUTDOWN_LAME_DUCK_MS after the drain, then exits 0', async () => {
    const { url, child, exited } = await startIdleGateway(String(GRACE_MS), '1500');
    // A keep-alive connection used once before the signal, then idle: its next request must be answered.
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await freshRequest(url, keptAlive)).toMatch(/^400 /);
    const signalled = performance.now();
    child.kill('SIGTERM');
    // Nothing is in flight, so the drain itself is over at once; load balancers still send for a while.
    const answers: string[] = [];
    for (const at of [200, 700, 1100]) {
      await sleep(at - (performance.now() - signalled));
      answers.push(await freshRequest(url, at === 700 ? keptAlive : false));
    }
    keptAlive.destroy();
    expect(answers).toEqual(Array(3).fill('503 SHUTTING_DOWN connection=close'));
    expect(await exited).toBe(0);
    const exitMs = performance.now() - signalled;
    expect(exitMs).toBeGreaterThanOrEqual(1500);
    expect(exitMs).toBeLessThan(GRACE_MS);
  }, 30_000);
});

const LARGE_BODY_BYTES = 16 * 1024 * 1024;

/**
 * POSTs LARGE_BODY_BYTES in 64 KiB writes (waiting for drain), on a keep-alive connection or one that
 * closes: status, code and Connection header, plus the socket error seen on the way, if any.
 */
function largePost(url: string, path: string, keepAlive: boolean, contentType = 'application/json'): Promise<string> {
  return new Promise((resolve) => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    let answer: string | undefined;
    let failure = '';
    const settle = (): void => {
      if (agent !== false) agent.destroy();
      resolve(`${answer ?? 'no answer'}${failure === '' ? '' : ` error=${failure}`}`);
    };
    const req = request(`${url}${path}`, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': String(LARGE_BODY_BYTES) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => {
        answer = `${res.statusCode} ${/"code":"(\w+)"/.exec(text)?.[1] ?? ''} connection=${res.headers.connection ?? ''}`;
        // Errors of the upload that follow the answer count too: give them a moment to show.
        setTimeout(settle, 200);
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
      if (answer === undefined) settle();
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const write = (): void => {
      while (sent < LARGE_BODY_BYTES && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    write();
  });
}

describe('large bodies refused before they are read', () => {
  it('get their answer, not a broken pipe: 415, 404, 405, and 503 SHUTTING_DOWN during the lame duck', async () => {
    const { url, child, exited } = await startIdleGateway(String(GRACE_MS), '3000');
    const before: string[] = [];
    for (const keepAlive of [true, false]) {
      before.push(await largePost(url, '/v2/models/fake_digits/infer', keepAlive, 'text/xml'));
      before.push(await largePost(url, '/nope', keepAlive));
      before.push(await largePost(url, '/v2/health/ready', keepAlive));
    }
    expect(before).toEqual([
      '415 UNSUPPORTED_MEDIA_TYPE connection=keep-alive',
      '404 ROUTE_NOT_FOUND connection=keep-alive',
      '405 METHOD_NOT_ALLOWED connection=keep-alive',
      '415 UNSUPPORTED_MEDIA_TYPE connection=close',
      '404 ROUTE_NOT_FOUND connection=close',
      '405 METHOD_NOT_ALLOWED connection=close',
    ]);
    child.kill('SIGTERM');
    await sleep(200);
    const during = [await largePost(url, '/v2/models/fake_digits/infer', true), await largePost(url, '/v2/models/fake_digits/infer', false)];
    expect(during).toEqual(Array(2).fill('503 SHUTTING_DOWN connection=close'));
    expect(await exited).toBe(0);
  }, 40_000);
});

/** A gateway child process (fake Triton) with these grace and lame-duck settings, once it is ready. */
/** A gateway process in front of an idle fake Triton, ready, with the given grace and lame duck. */
async function startIdleGateway(graceMs: string, lameDuckMs: string): Promise<GatewayProcess> {
  triton = new FakeTriton();
  await triton.start();
  gateway = await startGatewayProcess(triton.address, { SHUTDOWN_GRACE_MS: graceMs, SHUTDOWN_LAME_DUCK_MS: lameDuckMs });
  const url = gateway.url;
  await eventually(async () => (await fetch(`${url}/ready`)).status === 200, 10_000, 50);
  return gateway;
}

describe('a body still arriving when the grace period ends', () => {
  it('is answered 503 SHUTTING_DOWN with Connection: close at once, not 499 or a reset', async () => {
    const { url, child, exited } = await startIdleGateway('500', '0');
    // Announces 1000 bytes, sends 10 and stalls: the request is in flight when SIGTERM comes.
    const stalled = await rawRequest(url, `POST /v2/models/fake_digits/infer HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inputs":`, false);
    await sleep(200);
    child.kill('SIGTERM');
    expect(await stalled.ended).toBe('closed');
    expectShuttingDown(stalled.answer());
    expect(await exited).toBe(0);
  }, 30_000);
});

/**
 * Opens a raw connection and sends `head` (request line and headers); with `trickle`, then 100 bytes of
 * body every 50 ms. `answer()` is what came back so far; `ended` resolves 'closed' or the socket error.
 */
async function rawRequest(url: string, head: string, trickle: boolean): Promise<{ answer: () => string; ended: Promise<string> }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const timer = trickle ? setInterval(() => socket.destroyed || socket.write(Buffer.alloc(100, 0x20)), 50) : undefined;
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.on('close', () => resolve('closed'));
  }).finally(() => clearInterval(timer));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(head);
  return { answer: () => answer, ended };
}

const LARGE_HEAD = `POST /v2/models/fake_digits/infer HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;

function expectShuttingDown(answer: string): void {
  expect(answer).toMatch(/^HTTP\/1\.1 503 /);
  expect(answer).toMatch(/\r\nconnection: close\r\n/i);
  expect(answer).toContain('"code":"SHUTTING_DOWN"');
}

describe('a refused body still trickling in when the listener closes', () => {
  it('after the lame duck: is answered 503 SHUTTING_DOWN with Connection: close before its socket closes, not cut off unanswered', async () => {
    const { url, child, exited } = await startIdleGateway('2000', '2000');
    child.kill('SIGTERM');
    // Late in the lame duck: the refusal waits for a body that is still arriving when the listener closes.
    await sleep(1500);
    const refused = await rawRequest(url, LARGE_HEAD, true);
    expect(await refused.ended).toBe('closed');
    expectShuttingDown(refused.answer());
    expect(await exited).toBe(0);
  }, 30_000);

  it('when the grace runs out: a refusal that began waiting before it is answered too', async () => {
    const { url, child, exited } = await startIdleGateway('1500', '0');
    // A stalled body keeps a request in flight, so the grace runs out.
    const stalled = await rawRequest(url, `${LARGE_HEAD}{"inputs":`, false);
    await sleep(200);
    child.kill('SIGTERM');
    await sleep(500);
    const refused = await rawRequest(url, LARGE_HEAD, true);
    expect(await refused.ended).toBe('closed');
    expectShuttingDown(refused.answer());
    expect(await stalled.ended).toBe('closed');
    expectShuttingDown(stalled.answer());
    expect(await exited).toBe(0);
  }, 30_000);
});
