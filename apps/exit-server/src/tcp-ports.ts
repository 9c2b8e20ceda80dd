import { createServer, type Server, type Socket } from 'node:net';
import type { PortRange } from '@tunnel/config';
import { SINK_SOCKET_HIGH_WATER_MARK, readAcceptedIntoPool, type ReadBufferPool } from '@tunnel/tunnel-io';
import { stripV4Mapped, type Logger, type TunnelStream } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import type { ConnectionCaps } from './connection-caps.ts';
import { bridge, type BridgeResult } from './tcp-bridge.ts';
import type { Router } from './router.ts';

/** Counters of one public TCP port, for /status and logs. */
export interface TcpPortStats {
  /** The public port. */
  readonly port: number;
  /** True when it was opened on demand from --tcp-port-range. */
  readonly dynamic: boolean;
  /** Connections accepted since it opened. */
  connections: number;
  /** Connections open now. */
  active: number;
  /** Connections closed at once because no client served the port. */
  noRoute: number;
  /** Connections that ended with a reset. */
  resets: number;
  /** Bytes from public clients into the tunnel. */
  bytesIn: number;
  /** Bytes from the tunnel to public clients. */
  bytesOut: number;
  /** Sum of the durations of closed connections, ms. */
  totalDurationMs: number;
  /** Longest closed connection, ms. */
  maxDurationMs: number;
}

/** Outcome of a client's claim on the TCP ports it declared. */
export interface TcpClaim {
  /** Ports the client now serves. */
  readonly accepted: number[];
  /** Ports refused, with the reason. */
  readonly refused: Array<{ port: number; code: 'TUN_ERR_TCP_PORT_REFUSED'; reason: string }>;
}

/** One open public connection, as /status lists it. */
interface ActiveConnection {
  /** Public peer, `address:port`. */
  readonly remote: string;
  /** Client id serving it. */
  readonly client: string;
  /** When it was accepted. */
  readonly since: string;
}

/** Most open connections listed per port in /status (the counters cover all of them). */
const MAX_LISTED = 50;

interface Listener {
  readonly server: Server;
  readonly stats: TcpPortStats;
  readonly sockets: Map<Socket, ActiveConnection>;
  /** Clients holding a claim on a dynamic port. */
  claims: number;
  /** Its metric counter, when metrics are kept. */
  readonly counter: { value: number } | undefined;
}

/**
 * The public TCP ports: the fixed ones (--tcp-port) open at start; ports in --tcp-port-range
 * open when the first client claims them and close when the last one leaves, so a port is
 * never held for a client that died. Anything else a client declares is refused.
 */
export class TcpPorts {
  private readonly listeners = new Map<number, Listener>();
  private readonly opening = new Map<number, Promise<Listener>>();

  constructor(
    private readonly router: Router,
    private readonly opts: {
      readonly bind: string;
      readonly fixed: readonly number[];
      readonly range?: PortRange;
      /** Pooled read buffers for the public TCP connections; without it each read allocates. */
      readonly readPool?: ReadBufferPool;
      /** Close a connection with no bytes either way for this long, ms; 0 or absent = never. */
      readonly idleTimeoutMs?: number;
      /** Caps on open connections (shared with the public HTTP port); absent = none. */
      readonly caps?: ConnectionCaps;
      /** The connection counter of a port (`tunnel_tcp_connections_total`); resolved once per port. */
      readonly connectionCounter?: (port: number) => { value: number };
    },
    private readonly log: Logger,
  ) {}

  /** Opens the fixed ports; rejects if one cannot be bound. */
  async start(): Promise<void> {
    for (const port of this.opts.fixed) await this.open(port, false);
  }

  /** Claims `ports` for a client: fixed ones are accepted, range ones opened on demand, the rest refused. */
  async claim(ports: readonly number[]): Promise<TcpClaim> {
    const claim: TcpClaim = { accepted: [], refused: [] };
    for (const port of ports) {
      if (this.opts.fixed.includes(port)) {
        claim.accepted.push(port);
        continue;
      }
      const r = this.opts.range;
      if (!r || port < r.from || port > r.to) {
        const offered = [
          this.opts.fixed.length ? `--tcp-port ${this.opts.fixed.join(',')}` : '',
          r ? `--tcp-port-range ${r.from}-${r.to}` : '',
        ]
          .filter(Boolean)
          .join(' and ');
        claim.refused.push({
          port,
          code: 'TUN_ERR_TCP_PORT_REFUSED',
          reason: `port ${port} is not offered by this exit server (${offered || 'it offers no TCP ports'})`,
        });
        continue;
      }
      try {
        const l = this.listeners.get(port) ?? (await this.open(port, true));
        l.claims++;
        claim.accepted.push(port);
      } catch (err) {
        claim.refused.push({
          port,
          code: 'TUN_ERR_TCP_PORT_REFUSED',
          reason: `port ${port} could not be opened: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        });
      }
    }
    return claim;
  }

  /** Releases a client's claim; a dynamic port nobody claims any more is closed. */
  release(ports: readonly number[]): void {
    for (const port of ports) {
      const l = this.listeners.get(port);
      if (!l || !l.stats.dynamic) continue;
      l.claims--;
      if (l.claims <= 0) {
        this.listeners.delete(port);
        l.server.close();
        for (const s of l.sockets.keys()) s.destroy();
        this.log.info({ port }, 'closed on-demand TCP port: its last client left');
      }
    }
  }

  /** Stats of every open port. */
  stats(): Array<TcpPortStats & { activeConnections: ActiveConnection[] }> {
    return [...this.listeners.values()].map((l) => ({ ...l.stats, activeConnections: [...l.sockets.values()].slice(0, MAX_LISTED) }));
  }

  /** Closes every port and connection. */
  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    for (const l of all) for (const s of l.sockets.keys()) s.destroy();
    await Promise.all(all.map((l) => new Promise((r) => l.server.close(r))));
  }

  private open(port: number, dynamic: boolean): Promise<Listener> {
    const pending = this.opening.get(port);
    if (pending) return pending;
    const p = new Promise<Listener>((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true, highWaterMark: SINK_SOCKET_HIGH_WATER_MARK });
      const listener: Listener = {
        server,
        sockets: new Map(),
        claims: 0,
        counter: this.opts.connectionCounter?.(port),
        stats: {
          port,
          dynamic,
          connections: 0,
          active: 0,
          noRoute: 0,
          resets: 0,
          bytesIn: 0,
          bytesOut: 0,
          totalDurationMs: 0,
          maxDurationMs: 0,
        },
      };
      server.on('connection', (socket) => this.accept(listener, socket));
      server.once('error', reject);
      server.listen(port, this.opts.bind, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ port, err: err.message }, 'TCP listener error'));
        this.listeners.set(port, listener);
        this.log.info({ port, dynamic }, 'TCP port open');
        resolve(listener);
      });
    }).finally(() => this.opening.delete(port));
    this.opening.set(port, p);
    return p;
  }

  private accept(l: Listener, accepted: Socket): void {
    const stats = l.stats;
    const release = this.admit(stats.port, accepted);
    if (!release) return;
    accepted.once('close', release);
    const socket = readAcceptedIntoPool(accepted, this.opts.readPool);
    socket.once('close', release);
    const remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
    const remotePort = socket.remotePort ?? 0;
    const routed = this.route(stats, socket, remoteAddress, remotePort);
    if (!routed) return;
    const { client, stream } = routed;
    client.requestsServed++;
    client.inFlight++;
    stats.connections++;
    if (l.counter) l.counter.value++;
    stats.active++;
    const remote = `${remoteAddress}:${remotePort}`;
    l.sockets.set(socket, { remote, client: client.hello.clientId, since: new Date().toISOString() });
    bridge(socket, stream, this.opts.idleTimeoutMs ?? 0, (r) => this.carried(l, socket, client, remote, r));
  }

  /** Admits a connection under the caps (its release, to call once on close), or refuses and closes it. */
  private admit(port: number, accepted: Socket): (() => void) | undefined {
    const release = this.opts.caps?.admit(stripV4Mapped(accepted.remoteAddress ?? '')) ?? (() => {});
    if (typeof release === 'function') return release;
    this.log.warn(
      { port, remote: accepted.remoteAddress, code: 'TUN_ERR_TOO_MANY_CONNECTIONS', cap: release },
      'TCP connection refused: connection cap reached',
    );
    accepted.destroy();
    return undefined;
  }

  /** Opens a stream to a client serving the port, or counts the connection as unrouted and closes it. */
  private route(
    stats: TcpPortStats,
    socket: Socket,
    remoteAddress: string,
    remotePort: number,
  ): { client: ClientConn; stream: TunnelStream } | undefined {
    const client = this.router.pickTcp(stats.port);
    if (!client) {
      stats.noRoute++;
      this.log.info({ port: stats.port, remote: `${remoteAddress}:${remotePort}` }, 'TCP connection refused: no client serves this port');
      socket.destroy();
      return undefined;
    }
    try {
      const localAddress = stripV4Mapped(socket.localAddress ?? '');
      return { client, stream: client.session.openStream({ kind: 'tcp', port: stats.port, remoteAddress, remotePort, localAddress }) };
    } catch {
      stats.noRoute++;
      socket.destroy();
      return undefined;
    }
  }

  /** A carried connection ended: its port's counters, and one log line. */
  private carried(l: Listener, socket: Socket, client: ClientConn, remote: string, r: BridgeResult): void {
    const stats = l.stats;
    l.sockets.delete(socket);
    client.inFlight--;
    stats.active--;
    stats.bytesIn += r.bytesIn;
    stats.bytesOut += r.bytesOut;
    stats.totalDurationMs += r.durationMs;
    stats.maxDurationMs = Math.max(stats.maxDurationMs, r.durationMs);
    if (r.reset) stats.resets++;
    this.log.info(
      {
        port: stats.port,
        remote,
        client: client.hello.clientId,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        ms: r.durationMs,
        reset: r.reset,
        ...(r.idle ? { code: 'TUN_ERR_PUBLIC_TIMEOUT', why: '--tcp-idle-timeout' } : {}),
      },
      'tcp connection',
    );
  }
}
