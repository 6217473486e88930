// A request refused before its body was read (up front, or a bound crossed while reading): what is left
// of the body is read and dropped, never kept. Closing the connection while the client still sends
// would make the kernel answer its next bytes with a reset, which a client still writing often sees
// instead of the answer (measured in the parse-flood and drain tests; nginx's "lingering close" exists
// for the same reason). So a keep-alive connection is answered at once and keeps carrying requests once
// the body is dropped; one that closes after this answer (the client asked for Connection: close, or the
// gateway drains) is answered once the body is in. Bounded: past `maxBytes` more bytes or `maxMs`, a
// keep-alive connection is cut off, and the other is answered and closed anyway; and once the stop is
// about to close the listener (`answerNow`), a refusal still waiting is answered at once, since its
// connection would otherwise be closed with no answer at all.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A body follows the headers (node's own rule: a length above 0, or a transfer coding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Bytes of the request's body may still arrive (node marks even a bodiless request complete only later). */
export function bodyPending(req: IncomingMessage): boolean {
  return hasBody(req) && !req.complete && !req.destroyed;
}

export interface UnreadBodyOptions {
  /** Most bytes dropped before giving up on the connection (BODY_LIMIT_BYTES). */
  readonly maxBytes: number;
  /** Longest the rest of the body may take to arrive. */
  readonly maxMs: number;
  /** True while the gateway drains: every answer then closes its connection. */
  readonly draining: () => boolean;
  /**
   * Aborted once the grace period is over or the listener is about to close: the answer goes at once
   * (and closes), nobody waits for a body any more, even a refusal already waiting.
   */
  readonly answerNow: AbortSignal;
}

/**
 * Resolves when the refusal may be written: at once (true: the answer keeps the connection, the rest
 * of the body is dropped after it), or once the rest of the body is dropped (false).
 */
export async function settleUnreadBody(req: IncomingMessage, res: ServerResponse, options: UnreadBodyOptions): Promise<boolean> {
  if (!bodyPending(req) || options.answerNow.aborted) return false;
  if (res.shouldKeepAlive && !options.draining()) {
    res.once('finish', () =>
      dropBody(req, options, (cutOff) => {
        if (cutOff) req.socket.destroy();
      }),
    );
    return true;
  }
  await new Promise<void>((resolve) => {
    const settle = (): void => {
      options.answerNow.removeEventListener('abort', settle);
      resolve();
    };
    options.answerNow.addEventListener('abort', settle, { once: true });
    dropBody(req, options, settle);
  });
  return false;
}

function dropBody(req: IncomingMessage, { maxBytes, maxMs }: UnreadBodyOptions, done: (cutOff: boolean) => void): void {
  if (req.complete || req.destroyed) {
    done(false);
    return;
  }
  let dropped = 0;
  const stop = (cutOff: boolean): void => {
    clearTimeout(timer);
    req.off('data', onData).off('end', onEnd).off('close', onEnd);
    done(cutOff);
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > maxBytes) stop(true);
  };
  const onEnd = (): void => stop(false);
  const timer = setTimeout(() => stop(true), maxMs);
  timer.unref();
  req.on('data', onData).on('end', onEnd).on('close', onEnd);
  req.resume();
}
