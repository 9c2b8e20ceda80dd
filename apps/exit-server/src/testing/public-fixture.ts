import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Session, type SessionLimits, type TunnelStream } from '@tunnel/tunnel-protocol';
import { createTransportPair } from '@tunnel/tunnel-protocol/testing';
import { ClientConn } from '../client-conn.ts';
import type { PublicHttp, PublicHttpOptions } from '../public-http.ts';
import type { Router } from '../router.ts';
import { systemClock } from '@tunnel/tunnel-io';

/** Public-side options for tests: short enough to run, long enough not to fire by accident. */
export const TEST_PUBLIC_OPTIONS: PublicHttpOptions = {
  requestTimeoutMs: 5000,
  trustProxy: false,
  maxHeaderBytes: 1024,
  headersTimeoutMs: 5000,
  bodyTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  maxHeldBytes: 256 * 1024,
  maxPipelinedRequests: 64,
  streamIdleTimeoutMs: 5000,
  sendTimeoutMs: 5000,
  upstreamReadTimeoutMs: 5000,
  balance: 'request',
};

/** A fake edge client joined to `router`: `onStream` gets every stream the exit server opens. */
export interface FakeEdge {
  /** The edge's end of the session. */
  readonly session: Session;
  /** The exit server's end. */
  readonly server: Session;
  /** Streams opened so far. */
  readonly streams: TunnelStream[];
}

/** Everything a test starts, stopped by {@link stopFixtures}. */
const cleanups: Array<() => void> = [];

/** Stops every fake edge, server and socket the fixtures started (call in afterEach). */
export function stopFixtures(): void {
  while (cleanups.length) cleanups.pop()?.();
}

/** Joins a fake edge client serving `hostnames` (all hosts when empty) to `router`; `weight` goes in its hello. */
export function fakeEdge(
  router: Router,
  id: string,
  hostnames: string[],
  onStream: (s: TunnelStream) => void,
  limits: Partial<SessionLimits> = {},
  tcpPorts: number[] = [],
  weight?: number,
): FakeEdge {
  const [a, b] = createTransportPair();
  const server = new Session({ clock: systemClock, role: 'server', transport: a, limits: { pingIntervalMs: 0, ...limits } });
  const streams: TunnelStream[] = [];
  const session = new Session({
    clock: systemClock,
    role: 'client',
    transport: b,
    limits: { pingIntervalMs: 0, ...limits },
    onStream: (s) => {
      streams.push(s);
      onStream(s);
    },
  });
  router.add(
    new ClientConn(
      id,
      { version: 2, clientId: id, hostnames, tcpPorts, capabilities: ['http'], ...(weight === undefined ? {} : { weight }) },
      server,
      '127.0.0.1',
      tcpPorts,
    ),
  );
  cleanups.push(() => {
    server.close();
    session.close();
  });
  return { session, server, streams };
}

/** Serves `handler` on an ephemeral loopback port; `accepted` collects the server-side sockets. */
export async function listenPublic(handler: PublicHttp): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    accepted.push(s);
    handler.handleConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    handler.destroyAll();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, accepted };
}

/** A raw client connection; `text()` is everything received so far, `closed` resolves at close. */
export function rawClient(port: number): { socket: Socket; text: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  cleanups.push(() => socket.destroy());
  return { socket, text: () => text, closed };
}

/** Resolves once `cond()` holds, checking every turn of the event loop (readiness, never a fixed sleep). */
export async function until(cond: () => boolean, what = 'condition', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
