// The child-process side of bench/peers/express-echo.ts: a bare express 5 app that parses the infer
// request with express.json() and sends the parsed body straight back. No validation, no model, no
// Triton: the cost of the HTTP and JSON layer alone, the floor under any Node gateway's answer. Listens
// on a free port and reports it to the parent over IPC; exits when the parent goes away.
import express from 'express';
import type { AddressInfo } from 'node:net';

/** What the parent receives once the server listens. */
export interface EchoListening {
  readonly type: 'listening';
  readonly port: number;
}

// express.json's default limit is 100 kB; the gateway accepts large tensors, so the echo does too.
const BODY_LIMIT = '32mb';
const HOST = '127.0.0.1';

const app = express();
app.post('/v2/models/digits/infer', express.json({ limit: BODY_LIMIT }), (req, res) => {
  res.json(req.body);
});

const server = app.listen(0, HOST, (error?: Error) => {
  if (error !== undefined) throw error;
  const listening: EchoListening = { type: 'listening', port: (server.address() as AddressInfo).port };
  process.send?.(listening);
});

const shutDown = (): void => {
  // autocannon keeps its connections open: close them, or close() waits for them forever.
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', shutDown);
process.once('SIGINT', shutDown);
// The IPC channel closes when the benchmark driver exits or dies: no orphaned echo server.
process.once('disconnect', shutDown);
