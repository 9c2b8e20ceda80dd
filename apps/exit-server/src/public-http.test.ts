import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, ResetCode, Session, silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { createTransportPair } from '@tunnel/tunnel-protocol/testing';
import { ClientConn } from './client-conn.ts';
import { parseRequestHead, type RequestHead } from './http1/head.ts';
import { MessageReader } from './http1/reader.ts';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS } from './testing/public-fixture.ts';
import { systemClock } from '@tunnel/tunnel-io';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

/** What a fake edge client saw: streams opened and requests received (by target). */
interface Edge {
  streams: number;
  requests: string[];
  session: Session;
  /** The exit server's end of the session. */
  server: Session;
}

/**
 * A fake edge client: splits each stream's bytes into requests with the exit server's own
 * reader and answers each with `answer` (or refuses every stream when `answer` is undefined).
 */
function connectClient(
  router: Router,
  id: string,
  hostnames: string[],
  answer?: (h: RequestHead, stream: TunnelStream) => string | undefined,
): Edge {
  const [a, b] = createTransportPair();
  const server = new Session({ clock: systemClock, role: 'server', transport: a, limits: { pingIntervalMs: 0 } });
  const edge: Edge = { streams: 0, requests: [], session: undefined as unknown as Session, server };
  const onStream = answer
    ? (s: TunnelStream) => {
        edge.streams++;
        const reader = new MessageReader<RequestHead>(
          parseRequestHead,
          4096,
          {
            head: (h) => {
              edge.requests.push(h.target);
              const text = answer(h, s);
              if (text === undefined) return;
              s.write(text);
              // Like a real upstream: `Connection: close` ends the connection after the answer.
              if (h.connection.has('close')) s.end();
            },
            body: () => {},
            end: () => {},
          },
          () => new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431),
          (d) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d),
        );
        s.on('data', (c: Buffer) => reader.push(c));
        s.on('end', () => s.end());
      }
    : undefined;
  edge.session = new Session({ clock: systemClock, role: 'client', transport: b, limits: { pingIntervalMs: 0 }, onStream });
  const conn = new ClientConn(id, { version: 2, clientId: id, hostnames, tcpPorts: [], capabilities: ['http'] }, server, '127.0.0.1');
  router.add(conn);
  cleanups.push(() => {
    server.close();
    edge.session.close();
  });
  return edge;
}

const ok = (id: string) => (h: RequestHead) =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${id.length + h.target.length + 1}\r\n\r\n${id} ${h.target}`;

async function listen(handler: PublicHttp): Promise<number> {
  const server: Server = createServer({ allowHalfOpen: true }, handler.handleConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    handler.destroyAll();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function send(
  port: number,
  opts: { method?: string; body?: string; host?: string; agent?: Agent; path?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        port,
        host: '127.0.0.1',
        path: opts.path ?? '/x',
        method: opts.method ?? 'GET',
        agent: opts.agent ?? false,
        headers: { host: opts.host ?? 'app.test' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Writes raw bytes and collects everything until the server closes. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let text = '';
    s.on('data', (c) => (text += c.toString('latin1')));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

function keepAlive(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.push(() => agent.destroy());
  return agent;
}

describe('PublicHttp', () => {
  it('carries keep-alive requests of one connection over one stream', async () => {
    const router = new Router();
    const edge = connectClient(router, 'a', [], ok('a'));
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const agent = keepAlive();
    for (const path of ['/1', '/2', '/3']) expect(await send(port, { agent, path })).toEqual({ status: 200, body: `a ${path}` });
    expect(edge.streams).toBe(1);
    expect(edge.requests).toEqual(['/1', '/2', '/3']);
  });

  it('answers pipelined requests in order', async () => {
    const router = new Router();
    connectClient(router, 'a', [], ok('a'));
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const text = await raw(
      port,
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    expect(text.match(/a \/\d/g)).toEqual(['a /1', 'a /2', 'a /3']);
  });

  it('passes responses through byte-exact whatever their split into frames', async () => {
    const router = new Router();
    const responses = (h: RequestHead) => `HTTP/1.1 200 OK\r\ncontent-length: ${h.target.length}\r\nx-a: 1\r\n\r\n${h.target}`;
    connectClient(router, 'a', [], (h, s) => {
      const text = responses(h);
      // Odd-sized DATA frames: heads and bodies straddle chunks.
      for (let i = 0; i < text.length; i += 7) s.write(text.slice(i, i + 7));
      if (h.connection.has('close')) s.end();
      return undefined;
    });
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const text = await raw(
      port,
      'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two-two HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    const expected = ['/one', '/two-two', '/3'].map((t) => `HTTP/1.1 200 OK\r\ncontent-length: ${t.length}\r\nx-a: 1\r\n\r\n${t}`).join('');
    expect(text).toBe(expected);
  });

  it('passes interim 1xx answers through and still waits for the final one', async () => {
    const router = new Router();
    connectClient(router, 'a', [], (h) => `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n${ok('a')(h)}`);
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const text = await raw(port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(text.match(/HTTP\/1\.1 \d+/g)).toEqual([
      'HTTP/1.1 100',
      'HTTP/1.1 103',
      'HTTP/1.1 200',
      'HTTP/1.1 100',
      'HTTP/1.1 103',
      'HTTP/1.1 200',
    ]);
    expect(text.endsWith('a /2')).toBe(true);
  });

  it.each([
    // Per request, the connection keeps its stream on 'one' while it visits 'two'.
    ['request', [1, 1]],
    // Per connection, it holds one stream at a time.
    ['connection', [2, 1]],
  ] as const)('moves a keep-alive connection to the client of a new Host between requests (balance %s)', async (balance, streams) => {
    const router = new Router();
    const one = connectClient(router, 'one', ['one.test'], ok('one'));
    const two = connectClient(router, 'two', ['two.test'], ok('two'));
    const port = await listen(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, balance }, silentLogger));
    const agent = keepAlive();
    expect((await send(port, { agent, host: 'one.test' })).body).toBe('one /x');
    expect((await send(port, { agent, host: 'two.test' })).body).toBe('two /x');
    expect((await send(port, { agent, host: 'one.test' })).body).toBe('one /x');
    expect([one.streams, two.streams]).toEqual(streams);
  });

  it('leaves a client that starts draining before the next request on a kept-alive connection', async () => {
    const router = new Router();
    const first = connectClient(router, 'first', [], ok('first'));
    connectClient(router, 'second', [], ok('second'));
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const agent = keepAlive();
    expect((await send(port, { agent })).body).toBe('first /x');
    const drained = first.session.goAway(2000);
    await once(first.server, 'goaway');
    expect((await send(port, { agent })).body).toBe('second /x');
    await drained;
    expect(first.session.activeStreams).toBe(0);
  });

  it('retries a bodiless request that a client refused on the next client', async () => {
    const router = new Router();
    connectClient(router, 'refuses', []); // no stream handler: every OPEN is answered REFUSED
    connectClient(router, 'serves', [], ok('serves'));
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    for (let i = 0; i < 4; i++) expect(await send(port)).toEqual({ status: 200, body: 'serves /x' });
  });

  it('does not retry a request with a body: a refusal is a 503', async () => {
    const router = new Router();
    connectClient(router, 'refuses', []);
    connectClient(router, 'serves', [], ok('serves'));
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const res = await send(port, { method: 'POST', body: 'data' });
    expect(res.status).toBe(503);
  });

  it('answers 503 while draining and counts requests with no route', async () => {
    const router = new Router();
    const handler = new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger);
    const port = await listen(handler);
    expect(await send(port)).toMatchObject({ status: 503, body: 'no tunnel is connected for app.test\n' });
    expect(handler.counters.noRoute).toBe(1);
    connectClient(router, 'a', [], ok('a'));
    handler.drain();
    expect(await send(port)).toMatchObject({ status: 503, body: 'exit server is shutting down\n' });
    expect(handler.counters.inFlight).toBe(0);
  });

  it('says when to retry in every 503 it answers itself: no tunnel, a refusing client, a drain', async () => {
    const router = new Router();
    const handler = new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger);
    const port = await listen(handler);
    const post = 'POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\n\r\ndata';
    expect(await raw(port, post)).toMatch(/^HTTP\/1\.1 503 [^]*\r\nRetry-After: 1\r\n[^]*no tunnel is connected/);
    connectClient(router, 'refuses', []);
    expect(await raw(port, post)).toMatch(/^HTTP\/1\.1 503 [^]*\r\nRetry-After: 1\r\n[^]*busy or draining/);
    handler.drain();
    expect(await raw(port, post)).toMatch(/^HTTP\/1\.1 503 [^]*\r\nRetry-After: 1\r\n[^]*shutting down/);
  });

  it('a connection accepted before the drain gets its first request answered, then is closed', async () => {
    const router = new Router();
    const handler = new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger);
    const port = await listen(handler);
    connectClient(router, 'a', [], ok('a'));
    // Connected (as a load balancer forwards a connection) but its request not sent yet.
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    while (handler.counters.connections === 0) await new Promise((r) => setImmediate(r));
    handler.drain();
    expect(handler.freshConnections).toBe(1);
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const ended = once(s, 'end');
    s.write('GET /late HTTP/1.1\r\nhost: app.test\r\n\r\n');
    await ended;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*a \/late$/);
    expect(handler.freshConnections).toBe(0);
    s.destroy();
  });

  it('answers 502 when the client resets before any response byte, 504 when the upstream is too slow', async () => {
    const router = new Router();
    connectClient(router, 'a', [], (h, s) => {
      if (h.target === '/reset') s.reset(ResetCode.UPSTREAM_UNREACHABLE);
      return undefined; // '/slow' is never answered
    });
    const handler = new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, requestTimeoutMs: 200 }, silentLogger);
    const port = await listen(handler);
    expect((await send(port, { path: '/reset' })).status).toBe(502);
    expect(await send(port, { path: '/slow' })).toMatchObject({ status: 504, body: 'upstream timed out behind the tunnel\n' });
    expect(handler.counters.inFlight).toBe(0);
  });

  it('cuts the connection when the stream fails in the middle of a response', async () => {
    const router = new Router();
    connectClient(router, 'a', [], (_h, s) => {
      setTimeout(() => s.reset(ResetCode.UPSTREAM_UNREACHABLE), 20);
      return 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial';
    });
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const text = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(text).toBe('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
  });

  it.each([
    ['GET / HTTP/1.1\r\n\r\n', 400],
    ['NOT HTTP AT ALL\r\n\r\n', 400],
    [`GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
    [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`, 431],
    [`GET / HTTP/1.1\r\nHost: a${'\r\nX: 1'.repeat(300)}\r\n\r\n`, 431],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
    ['GET /p#frag HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ])('answers %j with %i, closes, and sends nothing down the tunnel', async (bytes, status) => {
    const router = new Router();
    const edge = connectClient(router, 'a', [], ok('a'));
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const text = await raw(port, bytes);
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(text).toContain('connection: close');
    expect(edge.streams).toBe(0);
  });

  it('answers 408 to a request head that never completes', async () => {
    const router = new Router();
    connectClient(router, 'a', [], ok('a'));
    const port = await listen(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, headersTimeoutMs: 100 }, silentLogger));
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n')).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('turns a connection into a byte pipe after 101, and keeps parsing after a declined upgrade', async () => {
    const router = new Router();
    connectClient(router, 'a', [], (h, s) => {
      if (h.target === '/no') return 'HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\n\r\n';
      if (h.target !== '/ws') return ok('a')(h);
      // After the 101 the fake echoes raw bytes (its reader is switched off by a raw marker).
      s.removeAllListeners('data');
      s.on('data', (c: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), c])));
      return 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n';
    });
    const port = await listen(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const declined = await raw(
      port,
      'GET /no HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    expect(declined).toContain('426 Upgrade Required');
    expect(declined).toContain('a /after');
    const piped = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n'));
      let text = '';
      s.on('data', (c) => {
        text += c.toString('latin1');
        if (text.endsWith('\r\n\r\n')) s.write(Buffer.from('NOT HTTP \x00\xff', 'latin1'));
        if (text.includes('echo:')) {
          s.destroy();
          resolve(text);
        }
      });
      s.on('error', reject);
    });
    expect(piped).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(piped).toContain('echo:NOT HTTP \x00\xff');
  });
});
