import { connect, createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@tunnel/tunnel-protocol';
import { ConnectionCaps } from './connection-caps.ts';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TcpPorts } from './tcp-ports.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

let ports: TcpPorts | undefined;
afterEach(async () => {
  stopFixtures();
  await ports?.close();
  ports = undefined;
});

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

describe('ConnectionCaps', () => {
  it('caps per address and in total, and frees a slot once per release', () => {
    const caps = new ConnectionCaps(3, 2);
    const a1 = caps.admit('a');
    const a2 = caps.admit('a');
    expect(caps.admit('a')).toBe('address');
    const b1 = caps.admit('b');
    expect(caps.admit('c')).toBe('total');
    expect(caps.admit(undefined)).toBe('total');
    expect(typeof a1).toBe('function');
    (a1 as () => void)();
    (a1 as () => void)(); // twice is once
    expect(caps.open).toBe(2);
    expect(typeof caps.admit('a')).toBe('function');
    expect([caps.refusedAddress, caps.refusedTotal]).toEqual([1, 2]);
    expect(typeof a2).toBe('function');
    expect(typeof b1).toBe('function');
  });

  it('counts unknown addresses (behind a proxy) against the total only', () => {
    const caps = new ConnectionCaps(0, 1);
    for (let i = 0; i < 10; i++) expect(typeof caps.admit(undefined)).toBe('function');
  });
});

describe('connection caps on the public side', () => {
  it('answers 503 with Retry-After past --max-connections-per-address, and admits again once one closes', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], (s) => s.on('data', () => s.write(OK)));
    const caps = new ConnectionCaps(100, 3);
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, caps }, silentLogger));
    const idle = [rawClient(port), rawClient(port), rawClient(port)];
    await until(() => caps.open === 3, 'three admitted');
    const fourth = rawClient(port);
    await fourth.closed;
    expect(fourth.text()).toMatch(/^HTTP\/1\.1 503 [^]*Retry-After: 1\r\n/);
    idle[0].socket.destroy();
    await until(() => caps.open === 2, 'a slot freed');
    const fifth = rawClient(port);
    fifth.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => fifth.text().endsWith('ok'), 'an answer');
  });

  it('closes TCP connections past the cap, sharing it with HTTP', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const tcpPort = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const router = new Router();
    fakeEdge(router, 'a', [], () => {}, {}, [tcpPort]);
    const caps = new ConnectionCaps(2, 0);
    ports = new TcpPorts(router, { bind: '127.0.0.1', fixed: [tcpPort], caps }, silentLogger);
    await ports.start();
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, caps }, silentLogger));
    rawClient(port);
    const tcp1 = connect(tcpPort, '127.0.0.1');
    tcp1.on('error', () => {});
    await until(() => caps.open === 2, 'one HTTP and one TCP connection admitted');
    const tcp2 = connect(tcpPort, '127.0.0.1');
    tcp2.on('error', () => {});
    await new Promise<void>((r) => tcp2.once('close', () => r()));
    expect(caps.refusedTotal).toBe(1);
    tcp1.destroy();
  });
});

describe('streams held by idle kept-alive connections', () => {
  it('are taken back when the client reaches its stream limit, so idle connections cannot lock it', async () => {
    const router = new Router();
    const edge = fakeEdge(router, 'a', [], (s) => s.on('data', () => s.write(OK)), { maxStreams: 2 });
    // Streams would stay with idle connections for a minute: only the reclaim frees them.
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, streamIdleTimeoutMs: 60_000 }, silentLogger));
    const holders = [rawClient(port), rawClient(port)];
    for (const h of holders) h.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => holders.every((h) => h.text().endsWith('ok')), 'two answered, kept alive');
    expect(edge.server.activeStreams).toBe(2);
    const third = rawClient(port);
    third.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => third.text().length > 0, 'an answer for the third');
    expect(third.text()).toBe(OK);
    // The holders are still connected and get a new stream for their next request.
    holders[0].socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => holders[0].text() === OK + OK, 'the holder served again');
  });
});
