import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadBufferPool } from '@tunnel/tunnel-io';
import { ResetCode, isBorrowed } from '@tunnel/tunnel-protocol';
import { dialTarget, type DialTarget } from './dial-target.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

/** A loopback TCP server running `onConnection`; resolves its port. */
async function listen(onConnection: (s: Socket) => void): Promise<number> {
  const server: Server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => sockets.add(s));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

type Outcome = { kind: 'connected' } | { kind: 'failed'; code?: string; reset: number } | { kind: 'lost'; code?: string };

/** Dials; `outcome` is the first report. `afterConnect`, if given, runs instead of reporting connected. */
function dial(target: DialTarget, afterConnect?: (socket: Socket) => void): { socket: Socket; outcome: Promise<Outcome> } {
  let report!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (report = resolve));
  const socket = dialTarget(target, {
    connected: () => (afterConnect ? afterConnect(socket) : report({ kind: 'connected' })),
    failed: (err, reset) => report({ kind: 'failed', code: err.code, reset }),
    lost: (err) => report({ kind: 'lost', code: err.code }),
  });
  cleanups.push(() => socket.destroy());
  return { socket, outcome };
}

describe('dialTarget', () => {
  it('reports connected for a listening target, with Nagle off', async () => {
    const port = await listen(() => {});
    const { socket, outcome } = dial({ host: '127.0.0.1', port, connectTimeoutMs: 2000 });
    expect(await outcome).toEqual({ kind: 'connected' });
    // allowHalfOpen: the target may end its side while ours still sends
    expect(socket.allowHalfOpen).toBe(true);
  });

  it('reads a plain target through the pool and buffers 256 KiB of writes before reporting full', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 7);
    const port = await listen((s) => s.end(body));
    const { socket, outcome } = dial({ host: '127.0.0.1', port, connectTimeoutMs: 2000, readPool: new ReadBufferPool() });
    let bytes = 0;
    let borrowed = 0;
    socket.on('data', (c: Buffer) => {
      bytes += c.length;
      if (isBorrowed(c)) borrowed++;
    });
    expect(await outcome).toEqual({ kind: 'connected' });
    await new Promise((r) => socket.once('end', r));
    expect(bytes).toBe(body.length);
    expect(borrowed).toBeGreaterThan(0);
    expect(socket.writableHighWaterMark).toBe(256 * 1024);
  });

  it.each([
    {
      name: 'a refused port fails with UPSTREAM_UNREACHABLE',
      target: async (): Promise<DialTarget> => ({ host: '127.0.0.1', port: await closedPort(), connectTimeoutMs: 2000 }),
      want: { kind: 'failed', code: 'ECONNREFUSED', reset: ResetCode.UPSTREAM_UNREACHABLE },
    },
    {
      // TCP connects, but a plain server never answers the TLS handshake: the deadline covers it
      name: 'a TLS target that never completes the handshake fails with UPSTREAM_TIMEOUT',
      target: async (): Promise<DialTarget> => ({ host: '127.0.0.1', port: await listen(() => {}), secure: true, connectTimeoutMs: 150 }),
      want: { kind: 'failed', code: 'ETIMEDOUT', reset: ResetCode.UPSTREAM_TIMEOUT },
    },
  ])('$name', async ({ target, want }) => {
    expect(await dial(await target()).outcome).toEqual(want);
  });

  it('reports lost, not failed, when a connected target resets', async () => {
    // the target resets on our first byte, so the reset cannot race the connect
    const port = await listen((s) => s.once('data', () => s.resetAndDestroy()));
    expect(await dial({ host: '127.0.0.1', port, connectTimeoutMs: 2000 }, (socket) => socket.write('x')).outcome).toEqual({
      kind: 'lost',
      code: 'ECONNRESET',
    });
  });
});
