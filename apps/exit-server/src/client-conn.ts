import { PEERS_CAPABILITY, type Hello, type Session } from '@tunnel/tunnel-protocol';
import type { Balanced } from './balance/pool.ts';
import type { Identity } from './credentials.ts';

/** How a client authenticated, kept to re-check it when the token files change. */
export interface ClientAuth {
  /** Shared token or tokens-file entry. */
  readonly identity: Identity;
  /** SHA-256 of the token it presented (never the token itself). */
  readonly tokenDigest: Buffer;
  /** The id its hello declared, when the identity's id differs. */
  readonly declaredId?: string;
}

/** Why the server is ending a session on its own initiative (GOAWAY reason), if it is. */
export type EndReason = 'replaced' | 'revoked';

/** Routing state of a client in /status: `unresponsive` clients get requests only when no `active` one serves the host. */
export type ClientState = 'active' | 'unresponsive' | 'draining';

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
  /** Set when the server drains this session itself: a newer process replaced it, or its token was revoked. */
  endReason: EndReason | undefined;
  /**
   * True while its session is suspected of having vanished (it owed us an answer, then left a probe
   * PING unanswered: see watchClientHealth): new requests go to other clients of the route while any is responsive.
   */
  unresponsive = false;

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
    /** How it authenticated; undefined in tests that build clients by hand. */
    readonly auth?: ClientAuth,
  ) {
    this.weight = hello.weight ?? 1;
  }

  /** True once the server has decided to end this session (it is draining out). */
  get replaced(): boolean {
    return this.endReason !== undefined;
  }

  /** True when the client declared the `peers` capability: it is sent PEERS frames and sends its own. */
  get understandsPeers(): boolean {
    return this.hello.capabilities.includes(PEERS_CAPABILITY);
  }

  /** True while the client may take new streams. */
  get available(): boolean {
    return !this.session.isGoingAway;
  }

  /** Where it is for routing: draining (going away), unresponsive (see {@link unresponsive}) or active. */
  get state(): ClientState {
    if (this.session.isGoingAway) return 'draining';
    return this.unresponsive ? 'unresponsive' : 'active';
  }

  /** JSON for /status. */
  toStatus(): Record<string, unknown> {
    return {
      id: this.hello.clientId,
      ...(this.auth?.declaredId !== undefined ? { declaredId: this.auth.declaredId } : {}),
      identity: this.auth?.identity.kind ?? 'shared',
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
      state: this.state,
      draining: this.session.isGoingAway,
      ...(this.endReason !== undefined ? { endReason: this.endReason } : {}),
      attachedTo: this.attachedTo,
    };
  }
}
