// JSON bodies: checked as bytes first (strict UTF-8; then nesting depth and what the text holds, in one
// pass, see json-scan.ts), then parsed. A malformed text is a 400 INVALID_JSON; more numbers or strings
// than the model's tensors may hold a 400 TOO_LARGE_TENSOR; a text that would cost more memory once
// parsed than the parser may use a 413 PAYLOAD_TOO_LARGE.
import { isAscii, isUtf8 } from 'node:buffer';
import { GatewayError } from '../errors.ts';
import { scanJson } from './json-scan.ts';
import type { JsonCounts } from './json-scan.ts';

/** What a body may hold, and why, for the messages when it holds more. */
export interface ParseAllowance {
  /** Most numbers, strings and literals. */
  readonly maxScalars: number;
  readonly scalarsReason: () => string;
  /** Most bytes of heap JSON.parse may need, as estimated by parseCostBytes. */
  readonly maxParseBytes: number;
}

const UNLIMITED: ParseAllowance = { maxScalars: Number.POSITIVE_INFINITY, scalarsReason: () => '', maxParseBytes: Number.POSITIVE_INFINITY };

// Heap per parsed value, measured with node 24 (JSON.parse, then gc): a number in an array that also
// holds a non-number, or a distinct short string, takes 32-33 bytes; an array or object 43-68 bytes
// with its slot; an object member 74. Rounded up, with room for arrays growing while parsed.
const SCALAR_BYTES = 40;
const STRUCTURE_BYTES = 96;

/** Heap JSON.parse needs for a text of `length` bytes holding `counts`: the decoded text, then what it builds. */
export function parseCostBytes(length: number, ascii: boolean, counts: JsonCounts): number {
  // Non-ASCII text decodes to a two-byte string.
  return (ascii ? length : 2 * length) + SCALAR_BYTES * counts.scalars + STRUCTURE_BYTES * (counts.containers + counts.members);
}

const MIB = 1024 * 1024;

export function parseJsonBody(bytes: Uint8Array, maxDepth: number, allowance: ParseAllowance = UNLIMITED): unknown {
  if (bytes.length === 0) throw new GatewayError('INVALID_JSON', 'body: empty; a JSON object is required');
  // JSON text is UTF-8 (RFC 8259): invalid bytes are refused, never replaced with U+FFFD (an id or
  // BYTES data would silently come back altered).
  const ascii = isAscii(bytes);
  if (!ascii && !isUtf8(bytes)) throw new GatewayError('INVALID_JSON', 'body: the JSON text is not valid UTF-8 (invalid byte sequence)');
  const scan = scanJson(bytes, maxDepth);
  if (!scan.ok) throw new GatewayError('INVALID_JSON', `body: JSON nests deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`);
  if (scan.scalars > allowance.maxScalars) {
    throw new GatewayError('TOO_LARGE_TENSOR', `body: holds ${scan.scalars} numbers, strings or literals, more than ${allowance.maxScalars}: ${allowance.scalarsReason()}`);
  }
  const cost = parseCostBytes(bytes.length, ascii, scan);
  if (cost > allowance.maxParseBytes) {
    throw new GatewayError(
      'PAYLOAD_TOO_LARGE',
      `body: would take about ${Math.ceil(cost / MIB)} MiB once parsed (${scan.containers} arrays or objects, ${scan.members} keys, ${scan.scalars} values), ` +
        `more than the parser's ${Math.floor(allowance.maxParseBytes / MIB)} MiB; send tensor data flat (not nested) or as binary`,
    );
  }
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new GatewayError('INVALID_JSON', `body: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}
