// A request refused before its body was read: the rest of the body is read and dropped (never kept)
// before the answer goes out with Connection: close. Closing at once would leave the client's unsent
// bytes arriving at a closed socket, which the kernel answers with a reset, and a client that is still
// writing would often see that reset instead of the answer (nginx's "lingering close" for the same).
// Bounded: a body that goes on past `maxBytes` or `maxMs` is answered and closed anyway.
import type { IncomingMessage } from 'node:http';

export function drainUnreadBody(req: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let dropped = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      dropped += chunk.length;
      if (dropped > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    timer.unref();
    req.on('data', onData).on('end', done).on('close', done).on('error', done);
    req.resume();
  });
}
