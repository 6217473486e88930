// JSON bodies: depth-checked first (see json-depth.ts), then parsed; every failure is a 400 INVALID_JSON.
import { GatewayError } from '../errors.ts';
import { nestsWithin } from './json-depth.ts';

export function parseJsonBody(bytes: Uint8Array, maxDepth: number): unknown {
  if (bytes.length === 0) throw new GatewayError('INVALID_JSON', 'body: empty; a JSON object is required');
  if (!nestsWithin(bytes, maxDepth)) {
    throw new GatewayError('INVALID_JSON', `body: JSON nests deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`);
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new GatewayError('INVALID_JSON', `body: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}
