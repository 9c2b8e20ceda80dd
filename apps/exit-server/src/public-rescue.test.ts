import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ResetCode, SessionClosedError, StreamResetError, silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS as OPTIONS, fakeEdge, listenPublic, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

/** A fake edge client that answers every request `<id> <method>` unless `mute` (then it holds the streams it gets; a number: after that many answers). */
function edge(router: Router, id: string, mute: boolean | number) {
  let answers = 0;
  const held: TunnelStream[] = [];
  const resets: number[] = [];
  const e = fakeEdge(router, id, [], (s) => {
    held.push(s);
    s.on('error', (err) => {
      if (err instanceof StreamResetError) resets.push(err.reason);
    });
    s.on('data', () => {
      if (mute === true || (typeof mute === 'number' && answers >= mute)) return;
      answers++;
      const text = `${id} ${s.head.kind === 'http' ? s.head.method : ''}`;
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${text.length}\r\n\r\n${text}`);
    });
  });
  const conn = [...router.clients].find((c) => c.hello.clientId === id) as ClientConn;
  return { ...e, held, resets, conn };
}

/** What the router and watchClientHealth do when a client's session suspects it. */
function suspect(conn: ClientConn): void {
  conn.unresponsive = true;
  conn.session.emit('responsive', false, 4000);
}

function send(port: number, method: string, body?: string, agent: Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/x', method, agent, headers: { host: 'app.test' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A server with a mute client `a` (picked first) and an answering client `b`. */
async function setUp(requestTimeoutMs = OPTIONS.requestTimeoutMs) {
  const router = new Router();
  const a = edge(router, 'a', true);
  const b = edge(router, 'b', false);
  const http = new PublicHttp(router, { ...OPTIONS, requestTimeoutMs }, silentLogger);
  const { port } = await listenPublic(http);
  return { router, a, b, http, port };
}

describe('requests owed by a client that vanishes', () => {
  it.each(['GET', 'HEAD', 'OPTIONS'])(
    'a bodiless %s waiting on a client turning unresponsive is replayed once on another',
    async (method) => {
      const { a, b, http, port } = await setUp();
      const res = send(port, method);
      await until(() => a.held.length === 1, 'the request reached a');
      suspect(a.conn);
      expect(await res).toEqual({ status: 200, body: method === 'HEAD' ? '' : `b ${method}` });
      expect(b.held).toHaveLength(1);
      await until(() => a.resets.length === 1, 'a got a reset');
      expect(a.resets).toEqual([ResetCode.CANCEL]); // a, if it ever wakes, drops the upstream request
      expect(http.counters.rescued).toBe(1);
      expect([a.conn.inFlight, b.conn.inFlight, a.conn.requestsServed, b.conn.requestsServed]).toEqual([0, 0, 0, 1]);
    },
  );

  it('a GET on a kept-alive stream that already carried answers is replayed too (only its own answer is at stake)', async () => {
    const router = new Router();
    const a = edge(router, 'a', 1); // answers the first request, then nothing
    edge(router, 'b', false);
    const http = new PublicHttp(router, { ...OPTIONS, balance: 'connection' }, silentLogger);
    const { port } = await listenPublic(http);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await send(port, 'GET', undefined, agent)).toEqual({ status: 200, body: 'a GET' });
      const second = send(port, 'GET', undefined, agent);
      await until(() => a.conn.inFlight === 1, 'the second GET reached a, on the same stream');
      expect(a.held).toHaveLength(1);
      a.server.destroy(new SessionClosedError('TUN_ERR_IDLE_TIMEOUT'));
      expect(await second).toEqual({ status: 200, body: 'b GET' });
      expect(http.counters.rescued).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('a POST (with a body) waiting on a client turning unresponsive is not replayed: 504 at --request-timeout', async () => {
    const { a, b, http, port } = await setUp(300);
    const res = send(port, 'POST', 'order=1');
    await until(() => a.held.length === 1, 'the request reached a');
    suspect(a.conn);
    expect((await res).status).toBe(504);
    expect(b.held).toHaveLength(0);
    expect(http.counters.rescued).toBe(0);
  });

  it('a bodiless DELETE is not replayed either (only GET, HEAD, OPTIONS)', async () => {
    const { a, b, port } = await setUp(300);
    const res = send(port, 'DELETE');
    await until(() => a.held.length === 1, 'the request reached a');
    suspect(a.conn);
    expect((await res).status).toBe(504);
    expect(b.held).toHaveLength(0);
  });

  it('a GET waiting on the only client of its host keeps waiting when it turns unresponsive', async () => {
    const router = new Router();
    const a = edge(router, 'a', true);
    const http = new PublicHttp(router, OPTIONS, silentLogger);
    const { port } = await listenPublic(http);
    const res = send(port, 'GET');
    await until(() => a.held.length === 1, 'the request reached a');
    suspect(a.conn);
    a.held[0].write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate'); // it was only slow
    expect(await res).toEqual({ status: 200, body: 'late' });
    expect(http.counters.rescued).toBe(0);
  });

  it('a GET on a client whose session closes is replayed on another; a POST fails 502', async () => {
    const { a, http, port } = await setUp();
    const get = send(port, 'GET');
    await until(() => a.held.length === 1, 'the GET reached a');
    const post = send(port, 'POST', 'x'); // round-robin: b takes one, then a again
    const post2 = send(port, 'POST', 'y');
    await until(() => a.held.length === 2, 'a POST reached a');
    a.server.destroy(new SessionClosedError('TUN_ERR_IDLE_TIMEOUT'));
    expect(await get).toEqual({ status: 200, body: 'b GET' });
    const posts = [(await post).status, (await post2).status].sort();
    expect(posts).toEqual([200, 502]);
    expect(http.counters.rescued).toBe(1);
  });
});
