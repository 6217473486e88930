// Reads a request body into one Buffer within bounds decided as the bytes arrive, never after: the size
// limit (for a compressed body: the inflated size, and its ratio to the compressed size), and the
// global parse budget. Inflation streams through zlib (which runs off the event loop) and stops the
// moment a bound is crossed. Every refusal is a GatewayError; the caller closes the connection, since
// the rest of the body is never read.
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { GatewayError } from '../errors.ts';
import type { BudgetLease } from './parse-budget.ts';

export interface BodyLimits {
  /** Most bytes of the body, after inflation for a compressed one (BODY_LIMIT_BYTES). */
  readonly limitBytes: number;
  /** Most times a compressed body may inflate its compressed size (MAX_INFLATE_RATIO). */
  readonly maxInflateRatio: number;
}

/** Compressed bodies that inflate to less than this are never refused for their ratio (tiny, harmless). */
export const INFLATE_RATIO_FLOOR_BYTES = 1024 * 1024;

/** Content-Encoding -> a fresh inflater; identity is the absence of one. */
const INFLATERS: Readonly<Record<string, (() => Transform) | undefined>> = {
  identity: undefined,
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

export function budgetExhausted(lease: BudgetLease): GatewayError {
  return new GatewayError(
    'GATEWAY_BUSY',
    `request bodies being read and parsed fill the budget (PARSE_BUDGET_BYTES; this one needed more than its ${lease.heldBytes} bytes); retry`,
  );
}

function tooLarge(what: string, limits: BodyLimits): GatewayError {
  return new GatewayError('PAYLOAD_TOO_LARGE', `body: ${what} the limit of ${limits.limitBytes} bytes (BODY_LIMIT_BYTES)`);
}

export function readBody(req: IncomingMessage, lease: BudgetLease, limits: BodyLimits): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!Object.hasOwn(INFLATERS, encoding)) {
    return Promise.reject(
      new GatewayError('UNSUPPORTED_MEDIA_TYPE', `header Content-Encoding: "${encoding}" is not supported; send identity, gzip, deflate or br`),
    );
  }
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limits.limitBytes) return Promise.reject(tooLarge(`Content-Length ${declared} exceeds`, limits));
  if (declared !== undefined && !lease.take(declared)) return Promise.reject(budgetExhausted(lease));
  const inflater = INFLATERS[encoding]?.();

  return new Promise<Buffer>((resolve, reject) => {
    // A body of known length is written straight into one buffer of its own (no second copy when it is
    // joined, and it can move to a parse thread as it is); other bodies are joined at the end.
    const whole = inflater === undefined && declared !== undefined ? Buffer.allocUnsafeSlow(declared) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let produced = 0;
    let settled = false;
    const finish = (error: GatewayError | undefined): void => {
      if (settled) return;
      settled = true;
      req.off('data', onWire).off('aborted', onAborted).off('error', onAborted).off('close', onClose);
      if (inflater !== undefined) {
        req.unpipe(inflater);
        inflater.off('data', onBody).off('end', onEnd).destroy();
      } else req.off('end', onEnd);
      if (error === undefined) {
        resolve(whole === undefined ? Buffer.concat(chunks, produced) : whole.subarray(0, produced));
        return;
      }
      chunks.length = 0;
      // The rest of the body is read and dropped, so nothing piles up in the socket while the answer goes.
      req.resume();
      reject(error);
    };
    const onWire = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.limitBytes) finish(tooLarge('longer than', limits));
      else if (declared === undefined && !lease.take(chunk.length)) finish(budgetExhausted(lease));
      else if (inflater === undefined) onBody(chunk);
    };
    const onBody = (chunk: Buffer): void => {
      if (settled) return;
      if (inflater !== undefined) {
        produced += chunk.length;
        if (produced > limits.limitBytes) return finish(tooLarge('inflates beyond', limits));
        if (produced > INFLATE_RATIO_FLOOR_BYTES && produced > limits.maxInflateRatio * received) {
          return finish(
            new GatewayError(
              'PAYLOAD_TOO_LARGE',
              `body: inflates more than ${limits.maxInflateRatio} times its compressed size (MAX_INFLATE_RATIO); send it less compressed or uncompressed`,
            ),
          );
        }
        if (!lease.take(chunk.length)) return finish(budgetExhausted(lease));
      } else if (whole !== undefined) {
        // Node's parser never delivers more than Content-Length bytes.
        whole.set(chunk, produced);
        produced += chunk.length;
        return;
      } else produced += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onAborted = (): void => finish(new GatewayError('REQUEST_CANCELLED', 'client aborted the request body'));
    const onClose = (): void => {
      if (!req.complete) onAborted();
    };
    req.on('data', onWire).on('aborted', onAborted).on('error', onAborted).on('close', onClose);
    if (inflater === undefined) req.on('end', onEnd);
    else {
      inflater.on('data', onBody).on('end', onEnd);
      inflater.on('error', (error: Error) => finish(new GatewayError('INVALID_REQUEST', `body: does not inflate as ${encoding} (${error.message})`)));
      req.pipe(inflater);
    }
  });
}
