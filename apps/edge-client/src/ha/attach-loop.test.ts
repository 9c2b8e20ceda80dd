import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeClientSchema, loadConfig } from '@tunnel/config';
import {
  PEERS_CAPABILITY,
  PROTOCOL_VERSION,
  Session,
  WELCOME_HEADER,
  decodeHello,
  encodeWelcome,
  silentLogger,
} from '@tunnel/tunnel-protocol';
import { rawWebSocketTransport, webSocketAccept, systemClock } from '@tunnel/tunnel-io';
import { waitFor } from '@tunnel/testing';
import { EdgeClient } from '../edge-client.ts';

/**
 * The client's attach-until-covered loop against fake exit servers behind a round-robin TCP
 * proxy (the load balancer): each fake completes the handshake with a welcome naming its peers
 * and runs a server session, recording what the client does.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

class FakeExit {
  /** Sessions the client opened here (closed ones included). */
  readonly sessions: Session[] = [];
  /** What each session's client last reported with PEERS (its attached instances). */
  reported: readonly string[] = [];
  private readonly server: Server;
  port = 0;

  constructor(
    readonly id: string,
    public peers: string[],
  ) {
    this.server = createHttpServer();
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const hello = decodeHello(req.headers['x-tunnel-hello'] as string);
      expect(hello.capabilities).toContain(PEERS_CAPABILITY);
      const welcome = encodeWelcome({
        version: PROTOCOL_VERSION,
        instanceId: id,
        sessionId: `${id}-${this.sessions.length + 1}`,
        peers: this.peers,
        limits: { maxFrameBytes: 65536, maxHeaderBytes: 16384, streamWindow: 1 << 20, maxStreams: 64, pingIntervalMs: 0, idleTimeoutMs: 0 },
      });
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${webSocketAccept(req.headers['sec-websocket-key'] as string)}\r\n${WELCOME_HEADER}: ${welcome}\r\n\r\n`,
      );
      const session = new Session({
        clock: systemClock,
        role: 'server',
        transport: rawWebSocketTransport(socket, { role: 'server', head }),
        limits: { pingIntervalMs: 0, idleTimeoutMs: 0 },
      });
      session.on('peers', (ids: readonly string[]) => (this.reported = ids));
      this.sessions.push(session);
    });
    cleanups.push(() => {
      for (const s of this.sessions) s.destroy();
      return new Promise<void>((r) => this.server.close(() => r()));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Sessions still open and not told to go away. */
  get serving(): Session[] {
    return this.sessions.filter((s) => !s.isGoingAway);
  }

  /** Pushes a new peer set to every open session. */
  advertise(peers: string[]): void {
    this.peers = peers;
    for (const s of this.serving) s.sendPeers(peers);
  }
}

/** A round-robin TCP proxy over `backends` (ports), like an L4 load balancer. */
async function roundRobin(backends: () => number[]): Promise<number> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const ports = backends();
    const upstream = connect(ports[next++ % ports.length], '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

function startClient(port: number, extra: string[] = []): EdgeClient {
  const config = loadConfig(edgeClientSchema, {
    argv: [
      '--url',
      `ws://127.0.0.1:${port}`,
      '--upstream',
      'http://127.0.0.1:9',
      '--id',
      'pi',
      '--reconnect-min',
      '20ms',
      '--reconnect-max',
      '200ms',
      ...extra,
    ],
    env: { TUNNEL_TOKEN: 'attach-loop-test-token-0123456789' },
  });
  const client = new EdgeClient(config, silentLogger);
  client.start();
  cleanups.push(() => client.stop());
  return client;
}

describe('EdgeClient: attach to every advertised exit server', () => {
  it('dials the load balancer until it holds one session per instance, and closes duplicates at once', async () => {
    const fakes = await Promise.all(
      [new FakeExit('a', ['b', 'c']), new FakeExit('b', ['a', 'c']), new FakeExit('c', ['a', 'b'])].map((f) => f.listen()),
    );
    // a twice in a row first: the second session to it is a duplicate.
    const order = [fakes[0].port, fakes[0].port, fakes[1].port, fakes[2].port];
    const lb = await roundRobin(() => order);
    const client = startClient(lb);
    await waitFor(() => client.attached.join() === 'a,b,c', { what: 'attached to a, b and c' });
    await waitFor(() => fakes[0].sessions.length >= 2 && fakes[0].sessions[1].isClosed, { what: 'the duplicate on a closed' });
    expect(fakes.map((f) => f.serving.length)).toEqual([1, 1, 1]);
    // Each server was told the instances the client holds (its /status shows them).
    await waitFor(() => fakes.every((f) => f.reported.join() === 'a,b,c'), { what: 'attachments reported' });
  });

  it('a newly advertised instance is attached; a lost session is replaced; a draining one stops counting', async () => {
    const [a, b] = await Promise.all([new FakeExit('a', ['b']), new FakeExit('b', ['a'])].map((f) => f.listen()));
    const backends = [a.port, b.port];
    const lb = await roundRobin(() => backends);
    const client = startClient(lb);
    await waitFor(() => client.attached.join() === 'a,b', { what: 'attached to a and b' });
    // A new server d appears: a advertises it; the client dials until it lands on it.
    const d = await new FakeExit('d', ['a', 'b']).listen();
    backends.push(d.port);
    a.advertise(['b', 'd']);
    await waitFor(() => client.attached.join() === 'a,b,d', { what: 'attached to d' });
    // b's session is lost (no GOAWAY): the client dials again and re-attaches to b.
    b.serving[0].destroy();
    await waitFor(() => !client.attached.includes('b'), { what: 'b lost' });
    await waitFor(() => client.attached.join() === 'a,b,d' && b.serving.length === 1, { what: 'b replaced' });
    // d drains: it stops counting and is not dialed for again, while a and b keep serving.
    void d.serving[0].goAway(1000);
    await waitFor(() => client.attached.join() === 'a,b', { what: 'd detached' });
    expect(client.state).toBe('connected');
  });

  it('--ha-connections 2 holds two sessions and dials no more', async () => {
    const fakes = await Promise.all(
      [new FakeExit('a', ['b', 'c']), new FakeExit('b', ['a', 'c']), new FakeExit('c', ['a', 'b'])].map((f) => f.listen()),
    );
    const lb = await roundRobin(() => fakes.map((f) => f.port));
    const client = startClient(lb, ['--ha-connections', '2']);
    await waitFor(() => client.attached.length === 2, { what: 'two attached' });
    expect(fakes.reduce((n, f) => n + f.serving.length, 0)).toBeLessThanOrEqual(2);
    expect(client.attached).toEqual(['a', 'b']);
  });
});
