// A bug of the gateway's own (an error that is not a GatewayError nor one of express's) reaches the
// client as 500 INTERNAL with the catalogue's message, never its stack; the log keeps the stack.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../../gateway/errors.ts';
import { errorMiddleware } from '../../../gateway/http/error-response.ts';
import { createLogger } from '../../../gateway/observability/logger.ts';

const logged: string[] = [];
let server: ReturnType<express.Express['listen']>;
let url: string;

beforeAll(async () => {
  const app = express();
  app.get('/bug', () => {
    throw new TypeError('a bug of ours, at gateway/secret/path.ts:12');
  });
  const logger = createLogger('error', { write: (line: string) => void logged.push(line) });
  app.use(errorMiddleware(logger, { maxBytes: 1024, maxMs: 100, draining: () => false, answerNow: new AbortController().signal }));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('answers 500 INTERNAL with the catalogue message, and logs the stack', async () => {
  const response = await fetch(`${url}/bug`);
  expect(response.status).toBe(ERROR_CATALOGUE.INTERNAL.status);
  const text = await response.text();
  expect(JSON.parse(text)).toEqual({ error: ERROR_CATALOGUE.INTERNAL.message, code: 'INTERNAL' });
  expect(text).not.toContain('secret');
  expect(logged.join('\n')).toMatch(/"msg":"unhandled error"/);
  expect(logged.join('\n')).toContain('gateway/secret/path.ts:12');
});
