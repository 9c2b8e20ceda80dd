import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ResetCode, Session, StreamResetError, silentLogger, type HttpRequestHead, type TunnelStream } from '@tunnel/tunnel-protocol';
import { createTransportPair } from '@tunnel/tunnel-protocol/testing';
import { proxyHttp } from './proxy-http.ts';
import { Upstreams } from './upstreams.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

/** A server session (opens streams) wired to a client session that proxies with `upstreams`. */
function tunnel(upstreams: Upstreams): Session {
  const [a, b] = createTransportPair();
  const server = new Session({ role: 'server', transport: a, limits: { pingIntervalMs: 0 } });
  const client = new Session({
    role: 'client',
    transport: b,
    limits: { pingIntervalMs: 0 },
    onStream: (s) => proxyHttp(s, s.head as HttpRequestHead, upstreams, { connectTimeoutMs: 1000 }, silentLogger),
  });
  cleanups.push(() => {
    server.close();
    client.close();
    upstreams.destroy();
  });
  return server;
}

function head(authority: string, target = '/', headers: string[] = []): HttpRequestHead {
  return { kind: 'http', method: 'GET', target, authority, headers, remoteAddress: '203.0.113.9', remotePort: 5555 };
}

async function collect(stream: TunnelStream): Promise<{ status: number; body: string }> {
  const response = await new Promise<{ status: number }>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { status: response.status, body: Buffer.concat(chunks).toString() };
}

async function upstream(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('proxyHttp', () => {
  it('answers 404 for a host it has no upstream for, and never dials anything', async () => {
    const server = tunnel(new Upstreams([{ hostname: 'app.test', url: 'http://127.0.0.1:9/' }], 4));
    const res = await collect(server.openStream(head('intranet.local'), true));
    expect(res.status).toBe(404);
    expect(res.body).toContain('no upstream');
  });

  it('forwards method, path prefix, headers and Host to the upstream and streams the answer back', async () => {
    const up = await upstream((req, res) => {
      res.setHeader('x-seen', `${req.method} ${req.url} ${req.headers.host} ${req.headers['x-a']}`);
      res.end('body');
    });
    const server = tunnel(new Upstreams([{ hostname: null, url: `${up.url}/prefix/` }], 4));
    const stream = server.openStream(head('public.test:8000', '/path?q=1', ['x-a', '1']), true);
    const res = await collect(stream);
    expect(res).toEqual({ status: 200, body: 'body' });
    const seen = stream.response?.headers;
    expect(seen?.[seen.findIndex((h) => h.toLowerCase() === 'x-seen') + 1]).toBe('GET /prefix/path?q=1 public.test:8000 1');
  });

  it('resets with UPSTREAM_UNREACHABLE when the upstream refuses', async () => {
    const up = await upstream(() => {});
    const url = up.url;
    await new Promise((r) => up.server.close(r));
    const server = tunnel(new Upstreams([{ hostname: null, url }], 4));
    const err = await collect(server.openStream(head('x.test'), true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamResetError);
    expect((err as StreamResetError).reason).toBe(ResetCode.UPSTREAM_UNREACHABLE);
  });

  it('cancels the upstream request when the server resets the stream', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((r) => (closed = r));
    const up = await upstream((req) => req.once('close', closed));
    const server = tunnel(new Upstreams([{ hostname: null, url: up.url }], 4));
    const stream = server.openStream(head('x.test'), true);
    stream.on('error', () => {});
    // Reset once the request has reached the upstream.
    up.server.once('request', () => stream.reset(ResetCode.CANCEL));
    await upstreamClosed;
  });
});
