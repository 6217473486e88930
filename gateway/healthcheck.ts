// The container's HEALTHCHECK: asks this gateway's own liveness endpoint (or, given `/ready`, its
// readiness), exit 0 when it answers 200. Same settings as the gateway (PORT, HOST), so a changed port
// cannot make a healthy container look sick. Usage: node dist/gateway/healthcheck.js [/health|/ready]
import { request } from 'node:http';
import { loadConfig } from './config.ts';

const TIMEOUT_MS = 2000;
const PATHS = new Set(['/health', '/ready']);
const LOOPBACK_FOR_WILDCARD: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

function probe(path: string): Promise<boolean> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) return Promise.resolve(false);
  const { HOST, PORT } = loaded.config;
  return new Promise((resolve) => {
    const req = request({ host: LOOPBACK_FOR_WILDCARD[HOST] ?? HOST, port: PORT, path, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

const path = process.argv[2] ?? '/health';
if (!PATHS.has(path)) {
  process.stderr.write(`healthcheck: expected /health or /ready, got ${path}\n`);
  process.exitCode = 2;
} else {
  process.exitCode = (await probe(path)) ? 0 : 1;
}
