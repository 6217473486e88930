// readBody's bounds, decided while the bytes arrive: size, inflated size and ratio, the parse budget.
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../../../gateway/http/body-reader.ts';
import { ParseBudget } from '../../../gateway/http/parse-budget.ts';
import { isGatewayError } from '../../../gateway/errors.ts';

const LIMIT = 4 * 1024 * 1024;
const budget = new ParseBudget(4 * LIMIT);
/** What the last request's lease held when readBody settled, and how it settled. */
let last: { held: number; outcome: string } = { held: 0, outcome: '' };
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const lease = budget.lease();
    readBody(req, lease, { limitBytes: LIMIT, maxInflateRatio: 100 }).then(
      (body) => {
        last = { held: lease.heldBytes, outcome: `ok ${body.length}` };
        lease.release();
        res.end(last.outcome);
      },
      (error: unknown) => {
        last = { held: lease.heldBytes, outcome: isGatewayError(error) ? `${error.status} ${error.code} ${error.message}` : String(error) };
        lease.release();
        res.statusCode = 400;
        res.end(last.outcome);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends `chunks` (chunked unless `length` is given) and resolves with readBody's outcome. */
function send(chunks: readonly Buffer[], headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(last.outcome));
    });
    req.on('error', () => resolve(last.outcome));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const text = Buffer.from('{"inputs": []}');

describe('readBody', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('inflates %s', async (encoding, compress) => {
    expect(await send([compress(text)], { 'content-encoding': encoding })).toBe(`ok ${text.length}`);
  });

  it('refuses a Content-Length over the limit before reading', async () => {
    const outcome = send([], { 'content-length': String(LIMIT + 1) });
    expect(await outcome).toMatch(/^413 PAYLOAD_TOO_LARGE body: Content-Length/);
    expect(last.held).toBe(0);
  });

  it('stops inflating a bomb as soon as it passes the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * LIMIT));
    const outcome = await send([bomb], { 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
    expect(outcome).toMatch(/^413 PAYLOAD_TOO_LARGE body: inflates (beyond|more than)/);
    // Held: the compressed bytes and at most the limit and one inflated chunk, not the 64 MiB.
    expect(last.held).toBeLessThan(bomb.length + LIMIT + 64 * 1024);
  });

  it('refuses a body that inflates more than the ratio once past the floor', async () => {
    const zeros = gzipSync(Buffer.from(`[${'0,'.repeat(800_000)}0]`));
    expect(zeros.length * 100).toBeLessThan(1_600_000);
    expect(await send([zeros], { 'content-encoding': 'gzip' })).toMatch(/MAX_INFLATE_RATIO/);
  });

  it('counts chunked bytes against the budget as they arrive', async () => {
    const other = budget.lease();
    other.take(budget.limitBytes - 100 * 1024);
    try {
      const chunks = Array.from({ length: 20 }, () => Buffer.alloc(16 * 1024, 0x20));
      expect(await send(chunks)).toMatch(/^503 GATEWAY_BUSY/);
    } finally {
      other.release();
    }
    expect(await send([text])).toBe(`ok ${text.length}`);
  });

  it('refuses a Content-Length that does not fit the budget before reading', async () => {
    const other = budget.lease();
    other.take(budget.limitBytes - 1000);
    try {
      expect(await send([text], { 'content-length': String(2000) })).toMatch(/^503 GATEWAY_BUSY/);
      expect(last.held).toBe(0);
    } finally {
      other.release();
    }
  });

  it('refuses an unknown encoding with 415 and bytes that do not inflate with 400', async () => {
    expect(await send([text], { 'content-encoding': 'compress' })).toMatch(/^415 UNSUPPORTED_MEDIA_TYPE/);
    expect(await send([text], { 'content-encoding': 'gzip' })).toMatch(/^400 INVALID_REQUEST body: does not inflate as gzip/);
  });
});
