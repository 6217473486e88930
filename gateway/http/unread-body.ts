// A request refused before its body was read (up front, or a bound crossed while reading): what is left
// of the body is read and dropped, never kept. Closing the connection while the client still sends
// would make the kernel answer its next bytes with a reset, which a client still writing often sees
// instead of the answer (measured in the parse-flood test; nginx's "lingering close" exists for the
// same reason). So a keep-alive connection is answered at once and keeps carrying requests once the
// body is dropped; one that closes after this answer (the client asked for Connection: close) is
// answered once the body is in. Bounded: past `maxBytes` more bytes or `maxMs`, a keep-alive
// connection is cut off, and the other is answered and closed anyway.
import type { IncomingMessage, ServerResponse } from 'node:http';

const dropping = new WeakSet<ServerResponse>();

/** True when the rest of the request's body is dropped after `res` (so `res` need not close the connection). */
export function dropsUnreadBody(res: ServerResponse): boolean {
  return dropping.has(res);
}

/** Resolves when the refusal may be written: at once, or once the rest of the body is dropped. */
export async function settleUnreadBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, maxMs: number): Promise<void> {
  if (req.complete || req.destroyed) return;
  if (res.shouldKeepAlive) {
    dropping.add(res);
    res.once('finish', () =>
      dropBody(req, maxBytes, maxMs, (cutOff) => {
        if (cutOff) req.socket.destroy();
      }),
    );
    return;
  }
  await new Promise<void>((resolve) => dropBody(req, maxBytes, maxMs, () => resolve()));
}

function dropBody(req: IncomingMessage, maxBytes: number, maxMs: number, done: (cutOff: boolean) => void): void {
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
