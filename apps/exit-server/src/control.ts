import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ERROR_HEADER,
  PROTOCOL_VERSION,
  Session,
  WELCOME_HEADER,
  checkBearer,
  checkUpgradeRequest,
  encodeWelcome,
  stripV4Mapped,
  webSocketTransport,
  type Hello,
  type Logger,
  type SessionLimits,
} from '@tunnel/tunnel-protocol';
import { ClientConn } from './client-conn.ts';
import type { Router } from './router.ts';
import type { TcpClaim, TcpPorts } from './tcp-ports.ts';

/** Settings of the control port. */
export interface ControlOptions {
  /** Shared secret clients must present; never logged. */
  readonly token: string;
  /** This exit server's instance id. */
  readonly instanceId: string;
  /** Session limits announced in the welcome and enforced. */
  readonly limits: SessionLimits;
  /** Time a client has to send its complete upgrade request, ms. */
  readonly handshakeTimeoutMs: number;
  /** PEM certificate and key to serve wss:// directly. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Extra facts for /status. */
  readonly statusExtra: () => Record<string, unknown>;
  /** Public TCP ports, claimed by clients in their hello. */
  readonly tcpPorts?: TcpPorts;
}

interface PendingUpgrade {
  hello: Hello;
  sessionId: string;
  tcp: TcpClaim;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 405: 'Method Not Allowed', 426: 'Upgrade Required', 503: 'Service Unavailable' };

/**
 * The control port: edge clients upgrade to WebSocket sessions here (token checked before the
 * upgrade completes), the ALB health-checks `/healthz`, operators read `/status`.
 */
export class ControlPlane {
  /** The Fastify app serving /healthz and /status; its server also takes the upgrades. */
  readonly app: FastifyInstance;
  /** While true, /healthz answers 503 and no new sessions are accepted. */
  draining = false;
  private readonly wss: WebSocketServer;
  private readonly pending = new WeakMap<IncomingMessage, PendingUpgrade>();
  private sessionSeq = 0;

  constructor(
    private readonly router: Router,
    private readonly opts: ControlOptions,
    private readonly log: Logger,
  ) {
    this.app = Fastify({
      logger: false,
      ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
    }) as unknown as FastifyInstance;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      // Our sender never puts more than a frame or a 256 KiB batch in one message.
      maxPayload: opts.limits.maxFrameBytes + 1024 * 1024,
      skipUTF8Validation: true,
    });
    this.wss.on('headers', (headers, req) => {
      const p = this.pending.get(req);
      if (!p) return;
      const welcome = encodeWelcome({
        version: PROTOCOL_VERSION,
        instanceId: opts.instanceId,
        sessionId: p.sessionId,
        tcpPorts: { accepted: p.tcp.accepted, refused: p.tcp.refused },
        limits: {
          maxFrameBytes: opts.limits.maxFrameBytes,
          maxHeaderBytes: opts.limits.maxHeaderBytes,
          streamWindow: opts.limits.streamWindow,
          maxStreams: opts.limits.maxStreams,
          pingIntervalMs: opts.limits.pingIntervalMs,
          idleTimeoutMs: opts.limits.idleTimeoutMs,
        },
      });
      headers.push(`${WELCOME_HEADER}: ${welcome}`);
    });
    this.app.get('/healthz', async (_req, reply) => {
      if (this.draining) return reply.code(503).send({ status: 'draining' });
      return { status: 'ok', clients: this.router.clients.size };
    });
    this.app.get('/status', async (req, reply) => {
      if (!checkBearer(req.headers.authorization, opts.token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'TUN_ERR_AUTH', message: 'send the tunnel token as a bearer token' });
      }
      return {
        instanceId: opts.instanceId,
        ...opts.statusExtra(),
        clients: [...this.router.clients].map((c) => c.toStatus()),
      };
    });
    this.app.server.headersTimeout = opts.handshakeTimeoutMs;
    this.app.server.requestTimeout = opts.handshakeTimeoutMs * 2;
    this.app.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const remote = stripV4Mapped(socket.remoteAddress ?? '');
    socket.on('error', () => socket.destroy());
    if (this.draining) {
      this.refuse(socket, 503, 'TUN_ERR_GOING_AWAY', 'exit server is shutting down');
      return;
    }
    const check = checkUpgradeRequest(req, this.opts.token);
    if (!check.ok) {
      this.log.warn({ remote, code: check.error.code, status: check.error.status }, 'refused edge client');
      this.refuse(socket, check.error.status, check.error.code, check.error.message);
      return;
    }
    const sessionId = `${this.opts.instanceId.slice(0, 8)}-${++this.sessionSeq}`;
    const hello = check.hello;
    const claimed: Promise<TcpClaim> =
      hello.tcpPorts.length === 0 || !this.opts.tcpPorts ? Promise.resolve(refuseAll(hello.tcpPorts)) : this.opts.tcpPorts.claim(hello.tcpPorts);
    void claimed.then((tcp) => {
      for (const r of tcp.refused) this.log.warn({ remote, client: hello.clientId, port: r.port, code: r.code, reason: r.reason }, 'refused TCP port');
      if (socket.destroyed) {
        this.opts.tcpPorts?.release(tcp.accepted);
        return;
      }
      this.pending.set(req, { hello, sessionId, tcp });
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, hello, sessionId, remote, tcp.accepted));
    });
  }

  private attach(ws: WebSocket, hello: Hello, sessionId: string, remote: string, tcpPorts: number[]): void {
    const log = this.log.child({ session: sessionId, client: hello.clientId });
    const session = new Session({ role: 'server', transport: webSocketTransport(ws), limits: this.opts.limits, logger: log });
    const conn = new ClientConn(sessionId, hello, session, remote, tcpPorts);
    this.router.add(conn);
    log.info({ remote, hostnames: hello.hostnames, tcpPorts }, 'edge client connected');
    session.on('goaway', () => log.info({}, 'edge client is draining: out of rotation'));
    session.once('close', (err) => {
      this.router.remove(conn);
      this.opts.tcpPorts?.release(tcpPorts);
      log.info({ code: err?.code, served: conn.requestsServed }, 'edge client disconnected');
    });
  }

  private refuse(socket: Socket, status: number, code: string, message: string): void {
    const body = `${code}: ${message}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${ERROR_HEADER}: ${code}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  /** Tells every client to drain and closes the sessions once idle or after `timeoutMs`. */
  async closeSessions(timeoutMs: number): Promise<void> {
    await Promise.all([...this.router.clients].map((c) => c.session.goAway(timeoutMs)));
    for (const c of [...this.router.clients]) c.session.close();
    this.wss.close();
  }
}

function refuseAll(ports: readonly number[]): TcpClaim {
  return { accepted: [], refused: ports.map((port) => ({ port, code: 'TUN_ERR_TCP_PORT_REFUSED', reason: 'this exit server offers no TCP ports' })) };
}

/** A fresh random instance id. */
export function newInstanceId(): string {
  return randomUUID();
}
