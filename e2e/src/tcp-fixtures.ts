import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

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

/** Free loopback ports (bound then released; fine for tests on one machine). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve) => {
          const s = createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

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
  let x = seed;
  while (left > 0) {
    const n = Math.min(left, 64 * 1024);
    const chunk = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      chunk.writeUInt32LE(x, i);
    }
    for (let i = n - (n % 4); i < n; i++) chunk[i] = i & 0xff;
    hash.update(chunk);
    left -= n;
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  }
  s.end();
  return hash.digest('hex');
}
