// Reads a request body into one Buffer within bounds decided as the bytes arrive, never after: the size
// limit (for a compressed body: the inflated size, and its ratio to the compressed size), and the
// global parse budget, taken chunk by chunk as bytes arrive (a declared Content-Length is only checked to
// fit, so a client announcing much and sending little holds little). Inflation streams through zlib
// (which runs off the event loop) and stops the moment a bound is crossed. Every refusal is a
// GatewayError; the reader then resumes the request so the rest of the body is read and dropped (what
// happens to the connection is the caller's: see unread-body.ts).
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { bodyAborted, bodyOverLimit, GatewayError } from '../errors.ts';
import type { BudgetLease } from './parse-budget.ts';

export interface BodyLimits {
  /** Most bytes of the body, after inflation for a compressed one (BODY_LIMIT_BYTES). */
  readonly limitBytes: number;
  /** Most times a compressed body may inflate its compressed size (MAX_INFLATE_RATIO). */
  readonly maxInflateRatio: number;
}

/** Compressed bodies that inflate to less than this are never refused for their ratio (tiny, harmless). */
const INFLATE_RATIO_FLOOR_BYTES = 1024 * 1024;

/** First capacity of a known-length body's buffer; it doubles as bytes arrive, up to the declared length. */
const FIRST_CAPACITY_BYTES = 64 * 1024;

/** Content-Encoding -> a fresh inflater; identity is the absence of one. */
const INFLATERS: Readonly<Record<string, (() => Transform & { bytesWritten: number }) | undefined>> = {
  identity: undefined,
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function budgetExhausted(bytes: number): GatewayError {
  return new GatewayError(
    'GATEWAY_BUSY',
    `request bodies being read and parsed fill the budget (PARSE_BUDGET_BYTES; this one needed ${bytes} more bytes); retry`,
  );
}

/**
 * Reads the body of `req`; `signal` (the request's own: aborted when the client leaves) settles the read
 * even when the request's own events fired before reading began.
 */
export function readBody(req: IncomingMessage, lease: BudgetLease, limits: BodyLimits, signal?: AbortSignal): Promise<Buffer> {
  if (signal?.aborted === true || req.destroyed || req.readableAborted) return Promise.reject(bodyAborted());
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!Object.hasOwn(INFLATERS, encoding)) {
    return Promise.reject(
      new GatewayError('UNSUPPORTED_MEDIA_TYPE', `header Content-Encoding: "${encoding}" is not supported; send identity, gzip, deflate or br`),
    );
  }
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limits.limitBytes) return Promise.reject(bodyOverLimit(`Content-Length ${declared} exceeds`, limits.limitBytes));
  if (declared !== undefined && !lease.fits(declared)) return Promise.reject(budgetExhausted(declared));
  const inflater = INFLATERS[encoding]?.();

  return new Promise<Buffer>((resolve, reject) => {
    // A body of known length is written into one buffer of its own (no second copy when it is joined, and
    // it can move to a parse thread as it is), grown as bytes arrive; other bodies are joined at the end.
    const known = inflater === undefined && declared !== undefined;
    let whole: Buffer | undefined = known ? Buffer.allocUnsafeSlow(Math.min(declared, FIRST_CAPACITY_BYTES)) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let produced = 0;
    let settled = false;
    const finish = (error: GatewayError | undefined): void => {
      if (settled) return;
      settled = true;
      req.off('data', onWire).off('aborted', onAborted).off('error', onAborted).off('close', onClose).off('end', onEnd);
      signal?.removeEventListener('abort', onAborted);
      if (inflater !== undefined) {
        req.unpipe(inflater);
        inflater.off('data', onBody).off('end', onInflated).destroy();
      }
      if (error === undefined) {
        resolve(whole === undefined ? Buffer.concat(chunks, produced) : whole.subarray(0, produced));
        return;
      }
      chunks.length = 0;
      whole = undefined;
      // The rest of the body is read and dropped, so nothing piles up in the socket while the answer goes.
      req.resume();
      reject(error);
    };
    const onWire = (chunk: Buffer): void => {
      if (settled) return;
      received += chunk.length;
      if (received > limits.limitBytes) finish(bodyOverLimit('longer than', limits.limitBytes));
      else if (inflatedAll) finish(trailingBytes());
      else if (!lease.take(chunk.length)) finish(budgetExhausted(chunk.length));
      else if (inflater === undefined) onBody(chunk);
    };
    const onBody = (chunk: Buffer): void => {
      if (settled) return;
      if (inflater !== undefined) {
        produced += chunk.length;
        if (produced > limits.limitBytes) return finish(bodyOverLimit('inflates beyond', limits.limitBytes));
        if (produced > INFLATE_RATIO_FLOOR_BYTES && produced > limits.maxInflateRatio * received) {
          return finish(
            new GatewayError(
              'PAYLOAD_TOO_LARGE',
              `body: inflates more than ${limits.maxInflateRatio} times its compressed size (MAX_INFLATE_RATIO); send it less compressed or uncompressed`,
            ),
          );
        }
        if (!lease.take(chunk.length)) return finish(budgetExhausted(chunk.length));
      } else if (whole !== undefined && declared !== undefined) {
        // Node's parser never delivers more than Content-Length bytes, so the buffer never outgrows it.
        let into = whole;
        if (produced + chunk.length > into.length) into = whole = grown(into, produced, Math.min(declared, Math.max(2 * into.length, produced + chunk.length)));
        into.set(chunk, produced);
        produced += chunk.length;
        return;
      } else produced += chunk.length;
      chunks.push(chunk);
    };
    // The compressed data ended: the request must end there too (deflate and br stop reading at their end).
    let inflatedAll = false;
    const trailingBytes = (): GatewayError => new GatewayError('INVALID_REQUEST', `body: bytes after the end of the ${encoding} data`);
    const onInflated = (): void => {
      if (inflater === undefined || received > inflater.bytesWritten) return finish(trailingBytes());
      if (req.complete) return finish(undefined);
      inflatedAll = true;
      req.unpipe(inflater);
      req.on('end', onEnd).resume();
    };
    const onEnd = (): void => finish(undefined);
    const onAborted = (): void => finish(bodyAborted());
    const onClose = (): void => {
      if (!req.complete) onAborted();
    };
    req.on('data', onWire).on('aborted', onAborted).on('error', onAborted).on('close', onClose);
    signal?.addEventListener('abort', onAborted, { once: true });
    if (inflater === undefined) req.on('end', onEnd);
    else {
      inflater.on('data', onBody).on('end', onInflated);
      inflater.on('error', (error: Error) => finish(new GatewayError('INVALID_REQUEST', `body: does not inflate as ${encoding} (${error.message})`)));
      req.pipe(inflater);
    }
  });
}

/** A buffer of `capacity` bytes holding the first `used` bytes of `buffer`. */
function grown(buffer: Buffer, used: number, capacity: number): Buffer {
  const next = Buffer.allocUnsafeSlow(capacity);
  buffer.copy(next, 0, 0, used);
  return next;
}
