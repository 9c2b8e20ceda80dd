import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicConnection } from './public-conn.ts';
import { ConnState, NEXT_STATES, canMove, holdsReading, moveTo, readsRequests } from './public-conn-state.ts';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

const servers: Server[] = [];
afterEach(() => {
  stopFixtures();
  for (const s of servers.splice(0)) s.close();
});

const ALL = Object.values(ConnState);

/** Every state reachable from `from` by allowed moves (itself included). */
function reachable(from: ConnState): Set<ConnState> {
  const seen = new Set([from]);
  const todo = [from];
  while (todo.length) for (const next of NEXT_STATES[todo.pop() as ConnState]) if (!seen.has(next) && seen.add(next)) todo.push(next);
  return seen;
}

describe('the public connection state machine', () => {
  it('lets every state end in Closing, and nothing leave Closing', () => {
    for (const s of ALL) expect(reachable(s).has(ConnState.Closing)).toBe(true);
    expect([...reachable(ConnState.Closing)]).toEqual([ConnState.Closing]);
  });

  it('pipes only after an upgrade was asked, and never reads requests again once piping', () => {
    for (const s of ALL) expect(canMove(s, ConnState.Piping)).toBe(s === ConnState.UpgradeAsked);
    for (const s of reachable(ConnState.Piping)) expect(readsRequests(s)).toBe(false);
  });

  it('holds reading exactly in the states that wait for an answer or are closing', () => {
    expect(ALL.filter(holdsReading)).toEqual([ConnState.HeadHeld, ConnState.UpgradeAsked, ConnState.Closing]);
  });

  it('moves where allowed and fails an assertion otherwise', () => {
    for (const from of ALL) {
      for (const to of ALL) {
        if (canMove(from, to)) expect(moveTo(from, to)).toBe(to);
        else expect(() => moveTo(from, to)).toThrow(`cannot move from ${from} to ${to}`);
      }
    }
  });
});

/** A public connection on a real socket, its fake edge's streams, and a raw client. */
async function connection(): Promise<{ conn: () => PublicConnection; streams: TunnelStream[]; client: ReturnType<typeof rawClient> }> {
  const router = new Router();
  const streams: TunnelStream[] = [];
  fakeEdge(router, 'a', [], (s) => streams.push(s));
  const http = new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger);
  let conn: PublicConnection | undefined;
  const server = createServer({ allowHalfOpen: true }, (s) => (conn = new PublicConnection(http, s)));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = rawClient((server.address() as AddressInfo).port);
  await until(() => conn !== undefined, 'the connection');
  return { conn: () => conn as PublicConnection, streams, client };
}

/** Everything stream `s` has received so far, as text. */
function received(s: TunnelStream): () => string {
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString('latin1')));
  return () => text;
}

describe('a public connection moves through its states', () => {
  it('holds a pipelined request for another host until the first is answered, then reads again', async () => {
    const { conn, streams, client } = await connection();
    client.socket.write('GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: b.test\r\n\r\n');
    await until(() => conn().state === ConnState.HeadHeld, 'the held head');
    await until(() => streams.length === 1, 'the first request forwarded');
    streams[0].write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    await until(() => streams.length === 2, 'the second request forwarded');
    expect(conn().state).toBe(ConnState.Reading);
  });

  it('asks, then pipes after a 101, and closes when the upstream ends', async () => {
    const { conn, streams, client } = await connection();
    client.socket.write('GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nearly');
    await until(() => conn().state === ConnState.UpgradeAsked && streams.length === 1, 'the upgrade asked and forwarded');
    const upstream = received(streams[0]);
    streams[0].write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n');
    await until(() => conn().state === ConnState.Piping, 'the pipe');
    await until(() => upstream().endsWith('early'), 'the held bytes replayed');
    streams[0].end();
    await until(() => conn().state === ConnState.Closing, 'closing');
  });

  it('reads HTTP again after a declined upgrade', async () => {
    const { conn, streams, client } = await connection();
    client.socket.write('GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n');
    await until(() => conn().state === ConnState.UpgradeAsked && streams.length === 1, 'the upgrade asked and forwarded');
    streams[0].write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nno');
    await until(() => conn().state === ConnState.Reading, 'reading again');
    await until(() => client.text().endsWith('no'), 'the answer');
  });

  it('closes after answering a malformed request', async () => {
    const { conn, client } = await connection();
    client.socket.write('NOT HTTP\r\n\r\n');
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 400 /);
    expect(conn().state).toBe(ConnState.Closing);
  });
});
