import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ResetCode, Session, StreamResetError, silentLogger, type HttpRequestHead, type TunnelStream } from '@tunnel/tunnel-protocol';
import { createTransportPair } from '@tunnel/tunnel-protocol/testing';
import { proxyHttp } from './proxy-http.ts';
import { Upstreams } from './upstreams.ts';
import { systemClock } from '@tunnel/tunnel-io';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

/** A server session (opens streams) wired to a client session that proxies with `upstreams`. */
function tunnel(upstreams: Upstreams): Session {
  const [a, b] = createTransportPair();
  const server = new Session({ clock: systemClock, role: 'server', transport: a, limits: { pingIntervalMs: 0 } });
  const client = new Session({
    clock: systemClock,
    role: 'client',
    transport: b,
    limits: { pingIntervalMs: 0 },
    onStream: (s) => proxyHttp(s, s.head as HttpRequestHead, upstreams, { connectTimeoutMs: 1000 }, silentLogger),
  });
  cleanups.push(() => {
    server.close();
    client.close();
  });
  return server;
}

function head(authority: string, target = '/'): HttpRequestHead {
  return { kind: 'http', method: 'GET', target, authority, remoteAddress: '203.0.113.9', remotePort: 5555 };
}

/** Everything the stream yields until its end, or the error that ended it. */
async function drain(stream: TunnelStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

async function upstream(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('proxyHttp', () => {
  it('answers 404 for a host it has no upstream for, and never dials anything', async () => {
    const server = tunnel(new Upstreams([{ hostname: 'app.test', url: 'http://127.0.0.1:9/' }], 4));
    const stream = server.openStream(head('other.test'));
    stream.end('GET / HTTP/1.1\r\nHost: other.test\r\n\r\n');
    const text = await drain(stream);
    expect(text).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(text).toContain('connection: close');
    expect(text.endsWith('no upstream is configured on this edge client for this host\n')).toBe(true);
  });

  it('passes the bytes of several keep-alive requests through one upstream connection, both ways', async () => {
    const sockets = new Set<Socket>();
    const up = await upstream((req, res) => {
      sockets.add(req.socket);
      res.setHeader('x-seen', `${req.method} ${req.url} ${req.headers.host} ${req.headers['x-forwarded-for']}`);
      res.end('body');
    });
    const server = tunnel(new Upstreams([{ hostname: null, url: `${up.url}/` }], 4));
    const stream = server.openStream(head('public.test:8000', '/path?q=1'));
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: public.test:8000\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n`;
    stream.write(request('/path?q=1'));
    stream.end(request('/second') + 'GET /last HTTP/1.1\r\nHost: public.test:8000\r\nConnection: close\r\n\r\n');
    const text = await drain(stream);
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
    expect(text).toContain('x-seen: GET /path?q=1 public.test:8000 203.0.113.9');
    expect(text).toContain('x-seen: GET /second public.test:8000');
    expect(sockets.size).toBe(1);
  });

  it('resets with UPSTREAM_UNREACHABLE when the upstream refuses', async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
    await new Promise((r) => probe.close(r));
    const server = tunnel(new Upstreams([{ hostname: null, url }], 4));
    const stream = server.openStream(head('a.test'));
    stream.end('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    const err = await drain(stream).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StreamResetError);
    expect((err as StreamResetError).reason).toBe(ResetCode.UPSTREAM_UNREACHABLE);
  });

  it('closes the upstream connection when the server resets the stream', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((r) => (closed = r));
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => (arrived = r));
    const up = await upstream((req) => {
      req.socket.once('close', closed);
      arrived();
    });
    const server = tunnel(new Upstreams([{ hostname: null, url: up.url }], 4));
    const stream = server.openStream(head('a.test'));
    stream.write('GET /hang HTTP/1.1\r\nHost: a.test\r\n\r\n');
    // Reset once the upstream holds the request (its connection is open), not after a guessed delay.
    await requestArrived;
    stream.reset(ResetCode.CANCEL);
    await upstreamClosed;
  });

  it('refuses a stream past --max-upstream-sockets, so the exit server can try elsewhere', async () => {
    const up = await upstream(() => {});
    const server = tunnel(new Upstreams([{ hostname: null, url: up.url }], 1));
    const first = server.openStream(head('a.test'));
    first.write('GET /hang HTTP/1.1\r\nHost: a.test\r\n\r\n');
    const second = server.openStream(head('a.test'));
    second.end('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    const err = await drain(second).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as StreamResetError).reason).toBe(ResetCode.REFUSED);
    first.reset();
  });
});
