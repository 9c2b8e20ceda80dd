import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fillGenerated } from '@tunnel/testing';

/** A loopback TCP server for a test, closed by the returned function. */
export async function tcpServer(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; server: Server; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Echoes every byte back; ends its side when the peer ends (half-close kept). */
export const echo = (s: Socket) => s.pipe(s);

/** Hashes everything received; after the peer's FIN answers `<bytes> <sha256>` and ends. */
export const hasher = (s: Socket) => {
  const hash = createHash('sha256');
  let bytes = 0;
  s.on('data', (c: Buffer) => {
    bytes += c.length;
    hash.update(c);
  });
  s.on('end', () => s.end(`${bytes} ${hash.digest('hex')}`));
};

/** Writes `name` and closes: shows which backend served a connection. */
export const identify = (name: string) => (s: Socket) => s.end(name);

/** Connects and resolves once connected. */
export function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads until the peer ends; resolves with everything, or with what came before a reset. */
export function readAll(s: Socket): Promise<{ data: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => {
      // Like a normal client: once the peer is done, finish our half too.
      s.end();
      resolve({ data: Buffer.concat(chunks) });
    });
    s.once('error', (error) => resolve({ data: Buffer.concat(chunks), error }));
    s.once('close', () => resolve({ data: Buffer.concat(chunks) }));
  });
}

/** Sends `size` deterministic bytes (with backpressure), ends, and returns their sha256. */
export async function sendBytes(s: Socket, size: number, seed = 1): Promise<string> {
  const hash = createHash('sha256');
  let left = size;
  let state = seed;
  while (left > 0) {
    const chunk = Buffer.allocUnsafe(Math.min(left, 64 * 1024));
    state = fillGenerated(chunk, state);
    hash.update(chunk);
    left -= chunk.length;
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  }
  s.end();
  return hash.digest('hex');
}
