// Free TCP ports, as the OS hands them out: listen on port 0, read the port, close. Another process can
// still take a port before the server binds it, so whoever binds must retry on "address in use".
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** `count` distinct free ports (held open together, so they differ). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
  }
}
