import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  ERROR_HEADER,
  PROTOCOL_VERSION,
  Session,
  WELCOME_HEADER,
  encodeWelcome,
  stripV4Mapped,
  type Logger,
  type SessionLimits,
} from '@tunnel/tunnel-protocol';
import { isWebSocketKey, rawWebSocketTransport, readIntoPool, type ReadBufferPool, webSocketAccept, systemClock } from '@tunnel/tunnel-io';
import { adminGuard } from './admin-auth.ts';
import { authSource, type AuthRateLimit } from './auth-rate-limit.ts';
import { ClientAdmission, RECENTLY_HEARD_PING_INTERVALS, type Admitted } from './client-admission.ts';
import { ClientConn } from './client-conn.ts';
import { watchClientHealth } from './client-health.ts';
import { Credentials } from './credentials.ts';
import { SESSION_CAP_RETRY_AFTER_S, SessionSlots } from './session-slots.ts';
import { enforceHandshakeDeadline } from './handshake-deadline.ts';
import type { PeerEntry } from './peers/peer-set.ts';
import type { ExitMetrics } from './metrics/exit-metrics.ts';
import { plainReply } from './plain-reply.ts';
import { isReady } from './readiness.ts';
import type { Router } from './router.ts';
import type { TcpClaim, TcpPorts } from './tcp-ports.ts';

// Time a replaced or revoked session gets to finish its streams when the control plane makes
// its own admission (tests, embedders), ms: the --drain-timeout default.
const DEFAULT_REPLACED_DRAIN_MS = 30_000;

/** Settings of the control port. */
export interface ControlOptions {
  /** Shared secret clients must present; never logged. Ignored when `admission` is given. */
  readonly token?: string;
  /** Who may open sessions (tokens, identities, grants, rate limit); default: just `token`. */
  readonly admission?: ClientAdmission;
  /** Failed-authentication limit per address for the admin endpoints (share the admission's). */
  readonly authRateLimit?: AuthRateLimit;
  /** Behind a trusted proxy: failed authentications count against the last X-Forwarded-For hop. */
  readonly trustProxy?: boolean;
  /** Secret that opens the admin endpoints (/status...); distinct from every client token; undefined: they answer 403. */
  readonly adminToken?: string;
  /** This exit server's instance id. */
  readonly instanceId: string;
  /** Session limits announced in the welcome and enforced. */
  readonly limits: SessionLimits;
  /** Time a client has to send its complete upgrade request, and to close after a refusal, ms. */
  readonly handshakeTimeoutMs: number;
  /**
   * Close an HTTP connection (`/healthz`, `/status`) idle this long between requests, ms. Behind a
   * load balancer it must outlast the balancer's idle timeout, or the balancer reuses a connection
   * this side is closing and answers 502.
   * @default node's 5 s
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Most tunnel sessions (with handshakes past their upgrade request) at once, count; past it an
   * upgrade is answered 503 TUN_ERR_SESSION_CAP with Retry-After. Plain HTTP (health checks,
   * /status) is not counted: it gets `httpReserve` sockets beyond the cap, and past cap +
   * reserve sockets new connections are closed at once, which bounds what unauthenticated
   * connections can hold while each waits out the handshake timeout.
   * @default no cap
   */
  readonly maxConnections?: number;
  /** Sockets kept for plain HTTP beyond `maxConnections`, count. @default CONTROL_HTTP_RESERVE */
  readonly httpReserve?: number;
  /** PEM certificate and key to serve wss:// directly. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Extra facts for /status. */
  readonly statusExtra: () => Record<string, unknown>;
  /** Public TCP ports, claimed by clients in their hello. */
  readonly tcpPorts?: TcpPorts;
  /** Pooled read buffers for the clients' connections; without it each read allocates. */
  readonly readPool?: ReadBufferPool;
  /** Metrics of sessions and refused handshakes. */
  readonly metrics?: ExitMetrics;
  /** The other live exit servers (peer discovery); without it this server advertises none. */
  readonly peers?: PeerView;
  /** Longest wait for clients before /readyz answers 200 anyway, ms. */
  readonly readyTimeoutMs?: number;
}

/** What the control plane reads of peer discovery. */
export interface PeerView {
  /** Live peers' instance ids. */
  readonly live: readonly string[];
  /** Most distinct clients any live peer holds. */
  readonly maxPeerClients: number;
  /** The first discovery round is in (true when no peer source is configured). */
  readonly settled: boolean;
  /** Every probed address, for /status. */
  snapshot(): PeerEntry[];
}

/**
 * The control port: edge clients upgrade to WebSocket sessions here (token checked before the
 * upgrade completes), the ALB health-checks `/healthz`, operators read `/status`.
 */
export class ControlPlane {
  /** The Fastify app serving /healthz and /status; its server also takes the upgrades. */
  readonly app: FastifyInstance;
  /** While true, /healthz answers 503 and no new sessions are accepted. */
  draining = false;
  /**
   * Fastify `preHandler` admitting only the admin token; every admin route uses it:
   * `control.app.get('/metrics', { preHandler: control.requireAdmin }, handler)`.
   */
  readonly requireAdmin: ReturnType<typeof adminGuard>;
  private sessionSeq = 0;
  /**
   * Each upgrade socket's slot release. The socket's own 'close' frees it before the session
   * starts; after that the read pool may adopt the socket's handle (the original object then
   * never closes), so the session's close frees it.
   */
  private readonly slotReleases = new WeakMap<Socket, () => void>();
  private readonly startedAt = Date.now();
  /** Who may open sessions; see {@link ClientAdmission}. */
  readonly admission: ClientAdmission;
  /** Sessions counted against `maxConnections`; see {@link SessionSlots}. */
  readonly slots: SessionSlots;

  constructor(
    private readonly router: Router,
    private readonly opts: ControlOptions,
    private readonly log: Logger,
  ) {
    this.slots = new SessionSlots(opts.maxConnections ?? 0, opts.httpReserve);
    const shared = new Credentials(opts.token === undefined ? [] : [opts.token], undefined);
    this.admission =
      opts.admission ??
      new ClientAdmission(
        {
          credentials: () => shared,
          maxStreams: opts.limits.maxStreams,
          drainTimeoutMs: DEFAULT_REPLACED_DRAIN_MS,
          recentlyHeardMs: RECENTLY_HEARD_PING_INTERVALS * opts.limits.pingIntervalMs,
        },
        router,
        log,
      );
    this.app = Fastify({
      logger: false,
      // The TLS handshake comes before any HTTP deadline: without its own, node gives it 120 s.
      ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: opts.handshakeTimeoutMs } } : {}),
    }) as unknown as FastifyInstance;
    // Unauthenticated (load balancers and peers probe it): the instance id and a client count, nothing else.
    this.app.get('/healthz', async (_req, reply) => {
      if (this.draining) return reply.code(503).send({ status: 'draining', instanceId: opts.instanceId });
      return { status: 'ok', instanceId: opts.instanceId, clients: this.distinctClients() };
    });
    // The public target group's health check: see isReady().
    this.app.get('/readyz', async (_req, reply) => {
      const ready = isReady({
        draining: this.draining,
        clients: this.distinctClients(),
        maxPeerClients: opts.peers?.maxPeerClients ?? 0,
        peersKnown: opts.peers?.settled ?? true,
        sinceStartMs: Date.now() - this.startedAt,
        readyTimeoutMs: opts.readyTimeoutMs ?? 0,
      });
      if (ready) return { status: 'ready' };
      return reply.code(503).send({ status: this.draining ? 'draining' : 'waiting for clients' });
    });
    this.requireAdmin = adminGuard(
      () => opts.adminToken,
      (req, outcome) => {
        this.log.warn(
          { remote: stripV4Mapped(req.socket.remoteAddress ?? ''), path: req.url.split('?')[0], outcome: outcome.state },
          'refused admin request',
        );
        opts.metrics?.authFailure(outcome.state === 'disabled' ? 'TUN_ERR_ADMIN_DISABLED' : 'TUN_ERR_ADMIN_AUTH');
      },
      opts.authRateLimit,
    );
    this.app.get('/status', { preHandler: this.requireAdmin }, async () => this.status());
    enforceHandshakeDeadline(this.app.server, opts.handshakeTimeoutMs);
    if (this.slots.maxSockets) this.app.server.maxConnections = this.slots.maxSockets;
    if (opts.keepAliveTimeoutMs !== undefined) this.app.server.keepAliveTimeout = opts.keepAliveTimeoutMs;
    this.app.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  /** The /status body: this server, its peers, refusals and every attached client. */
  private status(): Record<string, unknown> {
    return {
      instanceId: this.opts.instanceId,
      ...this.opts.statusExtra(),
      peers: this.opts.peers?.snapshot() ?? [],
      authRefusals: this.admission.refusals,
      sessions: { open: this.slots.open, cap: this.slots.cap, refusedAtCap: this.slots.refused },
      clients: [...this.router.clients].map((c) => ({
        ...c.toStatus(),
        alsoAttachedTo: c.attachedTo.filter((id) => id !== this.opts.instanceId),
      })),
    };
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const remote = stripV4Mapped(socket.remoteAddress ?? '');
    const userAgent = userAgentForLog(req.headers['user-agent']);
    socket.on('error', () => socket.destroy());
    if (this.draining) {
      this.refuse(socket, 503, 'TUN_ERR_GOING_AWAY', 'exit server is shutting down');
      return;
    }
    if (!this.takeSlot(socket, remote, userAgent)) return;
    const check = this.admission.check(req, authSource(remote, req.headers['x-forwarded-for'], this.opts.trustProxy ?? false));
    if (!check.ok) {
      this.log.warn({ remote, userAgent, code: check.code, status: check.status }, 'refused edge client');
      this.opts.metrics?.authFailure(check.code);
      this.refuse(socket, check.status, check.code, check.message, check.retryAfterS);
      return;
    }
    const key = req.headers['sec-websocket-key'];
    if (!isWebSocketKey(key) || req.headers['sec-websocket-version'] !== '13') {
      this.refuse(socket, 400, 'TUN_ERR_BAD_UPGRADE', 'a WebSocket upgrade needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13');
      return;
    }
    const sessionId = `${this.opts.instanceId.slice(0, 8)}-${++this.sessionSeq}`;
    const hello = check.hello;
    void this.admission.resolveConflicts(hello).then((conflict) => {
      if (conflict) {
        // A duplicate is routine for a client dialing through a load balancer: info, not warn.
        this.log.info({ remote, userAgent, client: hello.clientId, code: conflict.code, status: conflict.status }, 'refused edge client');
        this.refuse(socket, conflict.status, conflict.code, conflict.message);
        return;
      }
      if (socket.destroyed) return;
      const claimed: Promise<TcpClaim> =
        hello.tcpPorts.length === 0 || !this.opts.tcpPorts
          ? Promise.resolve(refuseAll(hello.tcpPorts))
          : this.opts.tcpPorts.claim(hello.tcpPorts);
      void claimed.then((tcp) => {
        for (const r of tcp.refused)
          this.log.warn({ remote, client: hello.clientId, port: r.port, code: r.code, reason: r.reason }, 'refused TCP port');
        if (socket.destroyed) {
          this.opts.tcpPorts?.release(tcp.accepted);
          return;
        }
        this.accept(socket, head, key, check, sessionId, { remote, userAgent }, tcp);
      });
    });
  }

  /**
   * Completes the WebSocket handshake by hand and runs the session straight on the socket (no
   * WebSocket library in the data path; see rawWebSocketTransport).
   */
  private accept(socket: Socket, head: Buffer, key: string, admitted: Admitted, sessionId: string, peer: Peer, tcp: TcpClaim): void {
    const limits: SessionLimits = { ...this.opts.limits, maxStreams: admitted.maxStreams };
    const welcome = encodeWelcome({
      version: PROTOCOL_VERSION,
      instanceId: this.opts.instanceId,
      sessionId,
      peers: [...(this.opts.peers?.live ?? [])],
      tcpPorts: { accepted: tcp.accepted, refused: tcp.refused },
      limits: {
        maxFrameBytes: limits.maxFrameBytes,
        maxHeaderBytes: limits.maxHeaderBytes,
        streamWindow: limits.streamWindow,
        maxStreams: limits.maxStreams,
        pingIntervalMs: limits.pingIntervalMs,
        idleTimeoutMs: limits.idleTimeoutMs,
      },
    });
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${webSocketAccept(key)}\r\n${WELCOME_HEADER}: ${welcome}\r\n\r\n`,
    );
    this.attach(socket, head, admitted, limits, sessionId, peer, tcp.accepted);
  }

  private attach(
    socket: Socket,
    head: Buffer,
    admitted: Admitted,
    limits: SessionLimits,
    sessionId: string,
    { remote, userAgent }: Peer,
    tcpPorts: number[],
  ): void {
    const hello = admitted.hello;
    const log = this.log.child({ session: sessionId, client: hello.clientId });
    const conn = readIntoPool(socket, this.opts.readPool, head);
    const transport = rawWebSocketTransport(conn.socket, { role: 'server', head: conn.head });
    const session = new Session({ clock: systemClock, role: 'server', transport, limits, logger: log });
    const client = new ClientConn(sessionId, hello, session, remote, tcpPorts, admitted.auth);
    this.router.add(client);
    log.info(
      {
        remote,
        userAgent,
        hostnames: hello.hostnames,
        tcpPorts,
        identity: admitted.auth.identity.kind,
        declaredId: admitted.auth.declaredId,
      },
      'edge client connected',
    );
    if (client.understandsPeers) {
      session.on('peers', (ids: readonly string[]) => {
        client.attachedTo = ids;
        log.debug({ attachedTo: ids }, 'edge client reported its exit servers');
      });
    }
    this.opts.metrics?.clientConnected(client);
    watchClientHealth(client, log, this.opts.metrics);
    session.once('close', (err) => {
      this.slotReleases.get(socket)?.();
      this.router.remove(client);
      this.opts.metrics?.clientDisconnected(client);
      this.opts.tcpPorts?.release(tcpPorts);
      log.info({ code: err?.code, served: client.requestsServed }, 'edge client disconnected');
    });
  }

  /**
   * Holds a session slot for this upgrade until its socket closes, or answers 503 with
   * Retry-After when the session cap is reached (checked before the token: the cheapest refusal).
   */
  private takeSlot(socket: Socket, remote: string, userAgent: string | undefined): boolean {
    const release = this.slots.take();
    if (release) {
      socket.once('close', release);
      this.slotReleases.set(socket, release);
      return true;
    }
    const code = 'TUN_ERR_SESSION_CAP';
    this.log.warn({ remote, userAgent, code, cap: this.slots.cap }, 'refused edge client: session cap reached');
    this.opts.metrics?.authFailure(code);
    this.refuse(socket, 503, code, `this exit server holds its maximum of ${this.slots.cap} sessions`, SESSION_CAP_RETRY_AFTER_S);
    return false;
  }

  /**
   * Answers an upgrade with a refusal and closes our half. The peer gets --handshake-timeout to
   * read it and close its own: past that the socket is destroyed, since node no longer watches an
   * upgraded socket and a peer that never closes (nor reads) would hold its session slot and its
   * file descriptor for good.
   */
  private refuse(socket: Socket, status: number, code: string, message: string, retryAfterS?: number): void {
    const headers = [`${ERROR_HEADER}: ${code}`, ...(retryAfterS !== undefined ? [`Retry-After: ${retryAfterS}`] : [])];
    socket.end(plainReply(status, `${code}: ${message}\n`, headers));
    const linger = setTimeout(() => socket.destroy(), this.opts.handshakeTimeoutMs);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  }

  /** Clients attached here and not draining, counted once per client id. */
  distinctClients(): number {
    const ids = new Set<string>();
    for (const c of this.router.clients) if (c.available) ids.add(c.hello.clientId);
    return ids.size;
  }

  /** Pushes the live peer set to every client that understands PEERS frames. */
  advertisePeers(live: readonly string[]): void {
    for (const c of this.router.clients) if (c.understandsPeers) c.session.sendPeers(live);
  }

  /** Tells every client to drain and closes the sessions once idle or after `timeoutMs`. */
  async closeSessions(timeoutMs: number): Promise<void> {
    await Promise.all([...this.router.clients].map((c) => c.session.goAway(timeoutMs)));
    for (const c of [...this.router.clients]) c.session.close();
  }
}

/** Who is on the other end of an upgrade, as logged. */
interface Peer {
  /** Remote address (IPv4-mapped IPv6 unwrapped). */
  readonly remote: string;
  /** The client's User-Agent, bounded for logging (see {@link userAgentForLog}). */
  readonly userAgent: string | undefined;
}

/** Longest User-Agent logged, in characters; the rest is cut (the header is the client's to fill). */
export const MAX_LOGGED_USER_AGENT = 200;

/** A User-Agent fit for a log line: printable ASCII only, at most {@link MAX_LOGGED_USER_AGENT} characters. */
export function userAgentForLog(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return raw.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_LOGGED_USER_AGENT);
}

function refuseAll(ports: readonly number[]): TcpClaim {
  return {
    accepted: [],
    refused: ports.map((port) => ({ port, code: 'TUN_ERR_TCP_PORT_REFUSED', reason: 'this exit server offers no TCP ports' })),
  };
}

/** A fresh random instance id. */
export function newInstanceId(): string {
  return randomUUID();
}
