import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { type TunnelError, type HttpRequestHead, Session, type TunnelStream } from '@tunnel/tunnel-protocol';
import { webSocketTransport } from './websocket.ts';
import { systemClock } from '../system-clock.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const head: HttpRequestHead = {
  kind: 'http',
  method: 'POST',
  target: '/echo',
  authority: 'a.com',
  remoteAddress: '127.0.0.1',
  remotePort: 1,
};

function echo(s: TunnelStream): void {
  s.on('error', () => {});
  s.reply({ status: 200, statusMessage: '' });
  s.pipe(s);
}

function readAll(stream: TunnelStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

async function roundTrip(stream: TunnelStream, data: Buffer): Promise<Buffer> {
  const body = readAll(stream);
  for (let off = 0; off < data.length; off += 100_000) {
    if (!stream.write(data.subarray(off, off + 100_000))) await once(stream, 'drain');
  }
  stream.end();
  return body;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A session over `ws` that echoes every stream, without keep-alive. */
function echoSession(role: 'client' | 'server', ws: WebSocket): Session {
  return new Session({ clock: systemClock, role, transport: webSocketTransport(ws), limits: { pingIntervalMs: 0 }, onStream: echo });
}

async function connect(clientOptions: ClientOptions) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  const serverSession = new Promise<Session>((resolve) => {
    wss.on('connection', (ws) => {
      const s = echoSession('server', ws);
      cleanups.push(() => s.destroy());
      resolve(s);
    });
  });
  const { port } = wss.address() as AddressInfo;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/tunnel`, clientOptions);
  await once(ws, 'open');
  const client = echoSession('client', ws);
  cleanups.push(() => client.destroy());
  return { client, server: await serverSession, ws };
}

describe('webSocketTransport over a real ws pair', () => {
  it.each([
    ['default client', {}],
    ['no deflate, zero mask', { perMessageDeflate: false, generateMask: (mask: Buffer) => mask.fill(0) }],
  ] as Array<[string, ClientOptions]>)(
    'runs a session both ways (%s)',
    async (_n, opts) => {
      const { client, server } = await connect(opts);
      const small = Buffer.from('hello over ws');
      expect((await roundTrip(client.openStream(head), small)).equals(small)).toBe(true);
      const big = randomBytes(4 * 1024 * 1024);
      const [a, b] = await Promise.all([
        roundTrip(client.openStream(head), big),
        roundTrip(server.openStream({ ...head, target: '/back' }), big),
      ]);
      expect(sha(a)).toBe(sha(big));
      expect(sha(b)).toBe(sha(big));

      const rtt = once(client, 'rtt');
      client.ping();
      const [ms] = (await rtt) as [number];
      expect(ms).toBeGreaterThanOrEqual(0);

      const closed = once(server, 'close');
      client.close();
      const [err] = (await closed) as [TunnelError | undefined];
      expect(err).toBeUndefined();
    },
    30_000,
  );

  it('a terminated socket fails in-flight streams with a session error', async () => {
    const { client, server, ws } = await connect({ perMessageDeflate: false });
    const st = server.openStream(head);
    st.write('x');
    const failed = new Promise<Error>((r) => st.once('error', r));
    const closed = once(server, 'close');
    const clientClosed = once(client, 'close');
    ws.terminate();
    const [err] = (await closed) as [TunnelError];
    expect(err.code).toBe('TUN_ERR_SESSION_CLOSED');
    expect(((await failed) as TunnelError).code).toBe('TUN_ERR_SESSION_CLOSED');
    const [cErr] = (await clientClosed) as [TunnelError];
    expect(cErr.code).toBe('TUN_ERR_SESSION_CLOSED');
    expect(client.isClosed).toBe(true);
  });
});

describe('the ws internal webSocketTransport reads', () => {
  it('ws still exposes its net.Socket as _socket (the only source of drain events: without it writes never wait)', async () => {
    const { ws } = await connect({ perMessageDeflate: false });
    const socket = (ws as unknown as { _socket?: { on?: unknown; writableNeedDrain?: unknown } })._socket;
    expect(typeof socket?.on, 'ws no longer has _socket: webSocketTransport would report every write as flushed').toBe('function');
    expect(typeof socket?.writableNeedDrain).toBe('boolean');
  });
});
