import { PEERS_CAPABILITY, type Hello, type Session } from '@tunnel/tunnel-protocol';
import type { Balanced } from './balance/pool.ts';

/** One connected edge client: its session, what it declared, and counters for /status. */
export class ClientConn implements Balanced {
  /** HTTP requests and TCP connections routed to this client. */
  requestsServed = 0;
  /** HTTP requests whose response has not ended, plus open TCP connections (least-inflight balances on it). */
  inFlight = 0;
  /** Share of requests relative to other clients of a route, from the hello (default 1). */
  readonly weight: number;
  /** When the session was established. */
  readonly connectedSince = new Date();
  /** Exit-server instances the client reports holding sessions to (PEERS frames), this one included. */
  attachedTo: readonly string[] = [];

  constructor(
    /** Server-assigned session id (unique per connection). */
    readonly sessionId: string,
    /** What the client declared. */
    readonly hello: Hello,
    /** The multiplexed session. */
    readonly session: Session,
    /** Address the client connected from. */
    readonly remoteAddress: string,
    /** TCP ports the server accepted for this client (a subset of what it declared). */
    readonly tcpPorts: readonly number[] = [],
  ) {
    this.weight = hello.weight ?? 1;
  }

  /** True when the client declared the `peers` capability: it is sent PEERS frames and sends its own. */
  get understandsPeers(): boolean {
    return this.hello.capabilities.includes(PEERS_CAPABILITY);
  }

  /** True while the client may take new streams. */
  get available(): boolean {
    return !this.session.isGoingAway;
  }

  /** JSON for /status. */
  toStatus(): Record<string, unknown> {
    return {
      id: this.hello.clientId,
      sessionId: this.sessionId,
      remoteAddress: this.remoteAddress,
      hostnames: this.hello.hostnames,
      tcpPorts: this.tcpPorts,
      connectedSince: this.connectedSince.toISOString(),
      inFlight: this.inFlight,
      requestsServed: this.requestsServed,
      weight: this.weight,
      // Tunnel streams open: kept-alive public connections (one per client each has used) and TCP connections.
      streams: this.session.activeStreams,
      bytesIn: this.session.bytesIn,
      bytesOut: this.session.bytesOut,
      lastRttMs: this.session.rttMs === undefined ? null : Math.round(this.session.rttMs * 1000) / 1000,
      draining: this.session.isGoingAway,
      attachedTo: this.attachedTo,
    };
  }
}
