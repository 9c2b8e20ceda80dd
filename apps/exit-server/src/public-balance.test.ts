import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, ResetCode, silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { StickyCookies } from './balance/sticky.ts';
import type { ClientConn } from './client-conn.ts';
import { parseRequestHead, type RequestHead } from './http1/head.ts';
import { MessageReader } from './http1/reader.ts';
import { PublicHttp } from './public-http.ts';
import { MAX_STREAMS_PER_CONNECTION } from './public-streams.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS as OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

const agents: Agent[] = [];
afterEach(() => {
  for (const a of agents.splice(0)) a.destroy();
  stopFixtures();
});

/** What a fake edge client saw: streams opened, requests received (by target). */
interface Edge {
  readonly streams: TunnelStream[];
  readonly requests: string[];
  readonly session: ReturnType<typeof fakeEdge>['session'];
  readonly server: ReturnType<typeof fakeEdge>['server'];
}

/** A fake edge client that splits each stream into requests and answers each with `answer` (nothing when it returns undefined). */
function connectClient(router: Router, id: string, answer: (h: RequestHead, s: TunnelStream) => string | undefined, weight?: number): Edge {
  const requests: string[] = [];
  const edge = fakeEdge(
    router,
    id,
    [],
    (s) => {
      const reader = new MessageReader<RequestHead>(
        parseRequestHead,
        4096,
        {
          head: (h) => {
            requests.push(h.target);
            const text = answer(h, s);
            if (text === undefined) return;
            s.write(text);
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
    },
    {},
    [],
    weight,
  );
  return { ...edge, requests };
}

/** Answers naming the client and the target, e.g. `a /x`. */
const ok = (id: string) => (h: RequestHead) =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${id.length + h.target.length + 1}\r\n\r\n${id} ${h.target}`;

async function listen(handler: PublicHttp): Promise<number> {
  return (await listenPublic(handler)).port;
}

function keepAlive(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

/** Writes raw bytes on a new connection and returns everything received until the server closes. */
async function raw(port: number, bytes: string): Promise<string> {
  const client = rawClient(port);
  client.socket.write(bytes);
  await client.closed;
  return client.text();
}

function send(
  port: number,
  opts: { agent?: Agent; cookie?: string } = {},
): Promise<{ status: number; body: string; setCookie?: string[] }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: 'app.test', ...(opts.cookie ? { cookie: opts.cookie } : {}) };
    const req = request({ port, host: '127.0.0.1', path: '/x', agent: opts.agent ?? false, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: text,
          ...(res.headers['set-cookie'] ? { setCookie: res.headers['set-cookie'] } : {}),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Who answered each of `n` requests sent one after another on one kept-alive connection. */
async function tally(port: number, n: number, opts: { cookie?: string } = {}): Promise<Record<string, number>> {
  const agent = keepAlive();
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await send(port, { agent, ...opts });
    expect(res.status).toBe(200);
    const who = res.body.split(' ')[0];
    counts[who] = (counts[who] ?? 0) + 1;
  }
  return counts;
}

describe('per-request balancing on kept-alive connections', () => {
  it('splits 100 requests of one connection 50/50, over one stream per client', async () => {
    const router = new Router();
    const a = connectClient(router, 'a', ok('a'));
    const b = connectClient(router, 'b', ok('b'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    expect(await tally(port, 100)).toEqual({ a: 50, b: 50 });
    // The fast path: each client's stream (and upstream connection) is reused, not reopened.
    expect([a.streams.length, b.streams.length]).toEqual([1, 1]);
    expect(a.requests).toHaveLength(50);
  });

  it('gives weights 2:1 a 2:1 split', async () => {
    const router = new Router();
    connectClient(router, 'a', ok('a'), 2);
    connectClient(router, 'b', ok('b'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    expect(await tally(port, 90)).toEqual({ a: 60, b: 30 });
  });

  it('keeps a connection on one client with --balance connection', async () => {
    const router = new Router();
    const a = connectClient(router, 'a', ok('a'));
    connectClient(router, 'b', ok('b'));
    const port = await listen(new PublicHttp(router, { ...OPTIONS, balance: 'connection' }, silentLogger));
    expect(await tally(port, 10)).toEqual({ a: 10 });
    expect(await tally(port, 10)).toEqual({ b: 10 });
    expect(a.streams.length).toBe(1);
  });

  it('keeps a pipelined run on one client, in order', async () => {
    const router = new Router();
    const a = connectClient(router, 'a', ok('a'));
    const b = connectClient(router, 'b', ok('b'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    const requests = Array.from(
      { length: 10 },
      (_, i) => `GET /${i} HTTP/1.1\r\nHost: a\r\n${i === 9 ? 'Connection: close\r\n' : ''}\r\n`,
    ).join('');
    const text = await raw(port, requests);
    const answers = text.match(/[ab] \/\d/g) ?? [];
    expect(answers.map((x) => x.slice(2))).toEqual(Array.from({ length: 10 }, (_, i) => `/${i}`));
    expect(new Set(answers.map((x) => x[0])).size).toBe(1);
    expect(a.streams.length + b.streams.length).toBe(1);
  });

  it('sends no request to a draining client, even on a connection holding its stream', async () => {
    const router = new Router();
    const first = connectClient(router, 'first', ok('first'));
    const second = connectClient(router, 'second', ok('second'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    const agent = keepAlive();
    expect((await send(port, { agent })).body).toBe('first /x');
    expect((await send(port, { agent })).body).toBe('second /x');
    const drained = first.session.goAway(2000);
    await once(first.server, 'goaway');
    for (let i = 0; i < 6; i++) expect((await send(port, { agent })).body).toBe('second /x');
    // The idle stream it held on the draining client was let go, so the drain ends at once.
    await drained;
    expect(first.session.activeStreams).toBe(0);
    expect(first.requests).toEqual(['/x']);
    expect(second.streams.length).toBe(1);
  });

  it('forgets a held stream whose upstream closed it, and keeps the public connection', async () => {
    const router = new Router();
    let closeNext = true;
    const a = connectClient(router, 'a', (h, s) => {
      s.write(ok('a')(h));
      // The upstream's keep-alive ends after this answer (no `Connection: close` announced).
      if (closeNext) setImmediate(() => s.end());
      closeNext = false;
      return undefined;
    });
    connectClient(router, 'b', ok('b'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    expect(await tally(port, 6)).toEqual({ a: 3, b: 3 });
    expect(a.streams.length).toBe(2);
  });

  it('replays a refused request onto the stream the connection already holds on the next client', async () => {
    const router = new Router();
    // Refuses every stream, as a client at its upstream connection limit does.
    fakeEdge(router, 'refuses', [], (s) => s.reset(ResetCode.REFUSED));
    const serves = connectClient(router, 'serves', ok('serves'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    const agent = keepAlive();
    for (let i = 0; i < 6; i++) expect((await send(port, { agent })).body).toBe('serves /x');
    // Each refusal was replayed onto the one stream held on 'serves', not a new one each time.
    expect(serves.streams.length).toBe(1);
    expect(serves.server.activeStreams).toBe(1);
  });

  it("frees only the full client's held streams when it reaches its stream limit", async () => {
    const router = new Router();
    const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    const full = fakeEdge(router, 'full', [], (s) => s.on('data', () => s.write(OK)), { maxStreams: 2 });
    const roomy = fakeEdge(router, 'roomy', [], (s) => s.on('data', () => s.write(OK)));
    const { port } = await listenPublic(new PublicHttp(router, { ...OPTIONS, streamIdleTimeoutMs: 60_000 }, silentLogger));
    const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    const ask = async (c: ReturnType<typeof rawClient>, n: number) => {
      c.socket.write(GET);
      await until(() => c.text() === OK.repeat(n), `answer ${n}`);
    };
    // Round-robin: each holder's two requests leave it a stream on both clients.
    const holders = [rawClient(port), rawClient(port)];
    for (const h of holders) {
      await ask(h, 1);
      await ask(h, 2);
    }
    expect([full.server.activeStreams, roomy.server.activeStreams]).toEqual([2, 2]);
    await ask(rawClient(port), 1); // picks 'full', which is at its limit: its idle streams are reclaimed
    expect(roomy.server.activeStreams).toBe(2);
  });

  it('lets go of the least recently used idle stream past the per-connection cap', async () => {
    const router = new Router();
    const edges = Array.from({ length: MAX_STREAMS_PER_CONNECTION + 2 }, (_, i) => connectClient(router, `c${i}`, ok(`c${i}`)));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    await tally(port, edges.length * 2);
    const open = edges.reduce((n, e) => n + e.session.activeStreams, 0);
    expect(open).toBeLessThanOrEqual(MAX_STREAMS_PER_CONNECTION);
  });

  it('least-inflight sends new requests to the client with fewer in flight', async () => {
    const router = new Router('least-inflight');
    const held: Array<() => void> = [];
    connectClient(router, 'slow', (h, s) => {
      held.push(() => s.write(ok('slow')(h)));
      return undefined;
    });
    connectClient(router, 'fast', ok('fast'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    const first = send(port); // idle tie: 'slow' first, and it holds the answer
    await until(() => held.length > 0, "the slow client's request");
    expect(await tally(port, 5)).toEqual({ fast: 5 });
    held.shift()?.();
    expect((await first).body).toBe('slow /x');
  });
});

describe('sticky cookie', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef');

  it('names the client on the first response; requests carrying it stay there; a forged one is ignored', async () => {
    const sticky = new StickyCookies<ClientConn>('lb', secret);
    const router = new Router('round-robin', sticky);
    connectClient(router, 'pi-1', ok('pi-1'));
    connectClient(router, 'pi-2', ok('pi-2'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    const first = await send(port);
    const who = first.body.split(' ')[0];
    const cookie = first.setCookie?.[0] ?? '';
    expect(cookie).toMatch(/^lb=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(cookie).not.toContain(who);
    const pair = cookie.split(';')[0];
    // On fresh connections and on one kept-alive connection alike.
    for (let i = 0; i < 10; i++) expect((await send(port, { cookie: `x=1; ${pair}` })).body.split(' ')[0]).toBe(who);
    expect(await tally(port, 10, { cookie: pair })).toEqual({ [who]: 10 });
    // Carrying the right cookie, nothing is set again.
    expect((await send(port, { cookie: pair })).setCookie).toBeUndefined();
    // A forged value picks nothing: the policy decides (both clients), and a real cookie is set.
    const forged = await tally(port, 10, { cookie: 'lb=AAAAAAAAAAAAAAAAAAAAAA' });
    expect(forged).toEqual({ 'pi-1': 5, 'pi-2': 5 });
    expect((await send(port, { cookie: 'lb=b' })).setCookie?.[0]).toMatch(/^lb=[A-Za-z0-9_-]{22};/);
  });

  it('falls back to the policy when the named client is gone', async () => {
    const sticky = new StickyCookies<ClientConn>('lb', secret);
    const router = new Router('round-robin', sticky);
    const a = connectClient(router, 'a', ok('a'));
    connectClient(router, 'b', ok('b'));
    const port = await listen(new PublicHttp(router, OPTIONS, silentLogger));
    const pair = `lb=${sticky.valueFor('a')}`;
    expect((await send(port, { cookie: pair })).body).toBe('a /x');
    a.server.close();
    const res = await send(port, { cookie: pair });
    expect(res.body).toBe('b /x');
    expect(res.setCookie?.[0]).toContain(`lb=${sticky.valueFor('b')}`);
  });
});
