// Slow and non-reading clients cannot hold a socket (and its buffers) for long: headers must arrive
// within HEADERS_TIMEOUT_MS (node's 408), a body must keep arriving (no gap over BODY_IDLE_TIMEOUT_MS,
// else 408 REQUEST_TIMEOUT and the connection closes), and an answer the client does not read has its
// connection destroyed after WRITE_TIMEOUT_MS without progress. Clients that are merely slow, but
// within those limits, are served. And an answer over MAX_RESPONSE_BYTES is refused, not sent.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../support/fake-triton-gateway.ts';
import { eventually } from '../support/gateway-harness.ts';
import { metricValue } from '../support/infer-load.ts';

const HEADERS_TIMEOUT_MS = 1000;
const BODY_IDLE_TIMEOUT_MS = 600;
const WRITE_TIMEOUT_MS = 1000;
const BODY_TIMEOUT_MS = 3000;
/** The limited gateway's answer limit: a fake_text answer of this many characters is over it. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/**
 * node checks the headers timeout on an interval (250 ms here); this much more is allowed for it and a
 * loaded machine, and is still far less than the trickles would take to finish (8 s and 90 s).
 */
const SLACK_MS = 3000;

const fixture = useFakeTritonGateway({
  HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_TIMEOUT_MS),
  BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
  WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS),
  BODY_LIMIT_BYTES: String(64 * 1024 * 1024),
  // The fake Triton upper-cases tens of MB in this process: room for a loaded machine.
  REQUEST_TIMEOUT_MS: '20000',
});
const limited = useFakeTritonGateway({ MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES) });

interface RawConnection {
  readonly socket: Socket;
  /** Everything the gateway sent so far. */
  received(): string;
  /** Resolves with the milliseconds from connect to the gateway closing the connection. */
  readonly closed: Promise<number>;
}

function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const opened = performance.now();
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    // A reset is a close too: what matters is that the gateway let go.
    socket.on('error', () => {});
    const closed = new Promise<number>((done) => socket.on('close', () => done(performance.now() - opened)));
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Writes `parts` one by one, `gapMs` apart, while the socket is open. */
async function trickle(socket: Socket, parts: readonly string[], gapMs: number): Promise<void> {
  for (const part of parts) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(part);
    await sleep(gapMs);
  }
}

const INFER_PATH = '/v2/models/fake_digits/infer';
const DIGITS_BODY = JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });

describe('headers', () => {
  it('a header block trickled past HEADERS_TIMEOUT_MS gets 408 and a closed connection', async () => {
    const raw = await openRaw(fixture.gateway.url);
    void trickle(raw.socket, [`POST ${INFER_PATH} HTTP/1.1\r\nHost: gateway\r\n`, ...Array.from({ length: 40 }, (_, index) => `X-Slow-${index}: 1\r\n`)], 200);
    const closedAfterMs = await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });
});

describe('body', () => {
  it('a body trickled one byte a second, with BODY_IDLE_TIMEOUT_MS below that, gets 408 REQUEST_TIMEOUT and a closed connection', async () => {
    const raw = await openRaw(fixture.gateway.url);
    const head = `POST ${INFER_PATH} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${DIGITS_BODY.length}\r\n\r\n`;
    void trickle(raw.socket, [head, ...DIGITS_BODY], 1000);
    const closedAfterMs = await raw.closed;
    const answer = raw.received();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
    // Cut at the first gap (about 1 s after the headers), not after the whole trickle.
    expect(closedAfterMs).toBeLessThan(1000 + BODY_IDLE_TIMEOUT_MS + SLACK_MS);
  });

  it('a body that keeps trickling within BODY_IDLE_TIMEOUT_MS but past BODY_TIMEOUT_MS gets 408 REQUEST_TIMEOUT and a closed connection', async () => {
    const raw = await openRaw(fixture.gateway.url);
    // Announces 32 MiB and sends a byte every BODY_IDLE_TIMEOUT_MS / 2: 40 of them would take 12 s.
    const head = `POST ${INFER_PATH} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${32 * 1024 * 1024}\r\n\r\n`;
    void trickle(raw.socket, [head, ...'['.repeat(40)], BODY_IDLE_TIMEOUT_MS / 2);
    const closedAfterMs = await raw.closed;
    const answer = raw.received();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('BODY_TIMEOUT_MS');
    expect(closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + SLACK_MS);
  }, 20_000);

  it('a body that keeps arriving within BODY_IDLE_TIMEOUT_MS is served, however long it takes in all', async () => {
    const raw = await openRaw(fixture.gateway.url);
    const head = `POST ${INFER_PATH} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ${DIGITS_BODY.length}\r\nConnection: close\r\n\r\n`;
    // 8 pieces, BODY_IDLE_TIMEOUT_MS / 3 apart: well over BODY_IDLE_TIMEOUT_MS in all.
    const pieces = DIGITS_BODY.match(/[\s\S]{1,14}/g) ?? [];
    await trickle(raw.socket, [head, ...pieces], BODY_IDLE_TIMEOUT_MS / 3);
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});

/** A binary request to fake_text whose answer (the upper-cased text, as binary output) is `bytes` long. */
function largeAnswerRequest(bytes: number): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: bytes + 4 } }],
      outputs: [{ name: 'upper', parameters: { binary_data: true } }],
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes);
  const body = Buffer.concat([header, length, Buffer.alloc(bytes, 'a')]);
  const head = [
    'POST /v2/models/fake_text/infer HTTP/1.1',
    'Host: gateway',
    'Content-Type: application/octet-stream',
    `Inference-Header-Content-Length: ${header.length}`,
    `Content-Length: ${body.length}`,
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head), body]);
}

async function openConnections(): Promise<number> {
  const { server } = fixture.gateway.gateway;
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function cutForWrites(): Promise<number> {
  const text = await (await fetch(`${fixture.gateway.url}/metrics`)).text();
  return metricValue(text, 'gateway_slow_clients_cut_total', { phase: 'write' });
}

describe('answers', () => {
  it('a client that never reads a large answer has its connection destroyed after WRITE_TIMEOUT_MS', async () => {
    // Far more than the kernel buffers of a loopback connection hold while the client reads nothing (the
    // receiving end grows its buffer only as the application reads; the sending end to 4 MiB here).
    const answerBytes = 16 * 1024 * 1024;
    const before = await cutForWrites();
    const connectionsBefore = await openConnections();
    const raw = await openRaw(fixture.gateway.url);
    raw.socket.pause();
    raw.socket.write(largeAnswerRequest(answerBytes));
    // The upload and the fake Triton's work take seconds on a loaded machine; the cut follows them.
    await eventually(async () => (await cutForWrites()) === before + 1, 30_000, 100);
    await eventually(async () => (await openConnections()) <= connectionsBefore, 2000, 50);
    raw.socket.destroy();
  }, 60_000);

  it('a client that pauses shorter than WRITE_TIMEOUT_MS, then reads, gets the whole answer', async () => {
    const answerBytes = 8 * 1024 * 1024;
    const raw = await openRaw(fixture.gateway.url);
    raw.socket.pause();
    raw.socket.write(largeAnswerRequest(answerBytes));
    await sleep(WRITE_TIMEOUT_MS / 2);
    raw.socket.resume();
    await eventually(() => raw.received().length >= answerBytes, 10_000, 50);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    raw.socket.destroy();
  }, 30_000);
});

describe('MAX_RESPONSE_BYTES', () => {
  const upper = (text: string, binary: boolean) =>
    fetch(`${limited.gateway.url}/v2/models/fake_text/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: [text] }], outputs: [{ name: 'upper', parameters: { binary_data: binary } }] }),
    });

  it.each([false, true])('an answer over the limit is 400 RESPONSE_TOO_LARGE (binary output: %s); one under it is served', async (binary) => {
    const over = await upper('a'.repeat(MAX_RESPONSE_BYTES), binary);
    expect(over.status).toBe(400);
    const error = (await over.json()) as { code: string; error: string };
    expect(error.code).toBe('RESPONSE_TOO_LARGE');
    expect(error.error).toContain('MAX_RESPONSE_BYTES');
    const under = await upper('a'.repeat(MAX_RESPONSE_BYTES / 2), binary);
    expect(under.status).toBe(200);
    expect((await under.arrayBuffer()).byteLength).toBeGreaterThan(MAX_RESPONSE_BYTES / 2);
  });
});
