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

describe('readBody: leases and the end of the stream', () => {
  /** The lease of the request being read, and how readBody settled (undefined while pending). */
  let current: { lease: ReturnType<ParseBudget['lease']>; outcome?: string } | undefined;
  let late: Server;
  let latePort = 0;
  const lateBudget = new ParseBudget(4 * LIMIT);

  beforeAll(async () => {
    // Reads the body 100 ms after the headers, like the infer route awaiting a signature first.
    late = createServer((req, res) => {
      const abandoned = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abandoned.abort();
      });
      const lease = lateBudget.lease();
      const entry: { lease: typeof lease; outcome?: string } = { lease };
      current = entry;
      const delay = Number(req.headers['x-delay-ms'] ?? 0);
      setTimeout(() => {
        readBody(req, lease, { limitBytes: LIMIT, maxInflateRatio: 100 }, abandoned.signal).then(
          (body) => {
            entry.outcome = `ok ${body.length}`;
            lease.release();
            res.end(entry.outcome);
          },
          (error: unknown) => {
            entry.outcome = isGatewayError(error) ? `${error.status} ${error.code} ${error.message}` : String(error);
            lease.release();
            if (!res.destroyed) {
              res.statusCode = 400;
              res.end(entry.outcome);
            }
          },
        );
      }, delay);
    });
    await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve));
    latePort = (late.address() as AddressInfo).port;
  });

  afterAll(async () => {
    late.closeAllConnections();
    await new Promise((resolve) => late.close(resolve));
  });

  async function until(check: () => boolean, ms = 2000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!check() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
    return check();
  }

  it('settles and gives the budget back when the client left before the body was read', async () => {
    const req = request({ port: latePort, host: '127.0.0.1', method: 'POST', agent: false, headers: { 'content-length': '1000', 'x-delay-ms': '100' } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(10));
    await new Promise((resolve) => setTimeout(resolve, 20));
    req.destroy();
    expect(await until(() => current?.outcome !== undefined)).toBe(true);
    expect(current?.outcome).toMatch(/^499 REQUEST_CANCELLED/);
    expect(lateBudget.heldBytes).toBe(0);
  });

  it('takes the budget of a known length as its bytes arrive, not all of it up front', async () => {
    const req = request({ port: latePort, host: '127.0.0.1', method: 'POST', agent: false, headers: { 'content-length': String(LIMIT) } });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1024));
    try {
      expect(await until(() => (current?.lease.heldBytes ?? 0) > 0)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(lateBudget.heldBytes).toBeLessThan(64 * 1024);
    } finally {
      req.destroy();
    }
    expect(await until(() => lateBudget.heldBytes === 0)).toBe(true);
  });

  it.each([
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['gzip', gzipSync],
  ])('refuses %s data followed by more bytes', async (encoding, compress) => {
    const body = Buffer.concat([compress(text), Buffer.alloc(3 * 1024 * 1024, 'A')]);
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ port: latePort, host: '127.0.0.1', method: 'POST', agent: false, headers: { 'content-encoding': encoding } }, (res) => {
        let answer = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk)).on('end', () => resolve(answer));
      });
      req.on('error', () => resolve(current?.outcome ?? 'error'));
      req.end(body);
    });
    expect(outcome).toMatch(/^400 INVALID_REQUEST body: /);
  });
});
