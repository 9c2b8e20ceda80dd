import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { readAcceptedIntoPool, type ReadBufferPool } from '@tunnel/tunnel-io';
import type { Logger, Session } from '@tunnel/tunnel-protocol';
import type { ConnectionCaps } from './connection-caps.ts';
import { admit } from './admit.ts';
import type { ClientConn } from './client-conn.ts';
import { ExitMetrics, type RequestSeries } from './metrics/exit-metrics.ts';
import type { Pending } from './public-binding.ts';
import { PublicConnection } from './public-conn.ts';
import type { Router } from './router.ts';

/** Settings of the public HTTP side. */
export interface PublicHttpOptions {
  /** Wait this long for the response head, from the end of the request (or from when the stream stops taking its body), before answering 504, ms. */
  readonly requestTimeoutMs: number;
  /** Behind a trusted proxy: append to its X-Forwarded-For chain, keep its X-Forwarded-Proto/-Port and X-Request-Id, log its last hop as the client. */
  readonly trustProxy: boolean;
  /** Largest request head (request line and headers), bytes; more is answered 431, or 414 when the request line alone is over it. */
  readonly maxHeaderBytes: number;
  /** A request head must arrive within this long of its first byte (blank lines included), ms; else 408. */
  readonly headersTimeoutMs: number;
  /** A request body must bring a byte within this long while it is read (not while the stream holds it back), ms; else 408, or a cut once the response began; 0 never. */
  readonly bodyTimeoutMs: number;
  /** A kept-alive connection with nothing in flight releases its tunnel stream (and the edge client its upstream connection) after this long, ms; 0 never. */
  readonly streamIdleTimeoutMs: number;
  /** Cut a connection whose client has not taken response bytes for this long, ms; 0 never. */
  readonly sendTimeoutMs: number;
  /** Cut a response whose upstream sent nothing for this long while the client was reading, ms; 0 never. */
  readonly upstreamReadTimeoutMs: number;
  /** Close a connection with no request in flight after this long without traffic, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Most bytes held for a connection while nothing can be forwarded (awaiting an upgrade's answer, a request behind a busy one), bytes; more cuts it. */
  readonly maxHeldBytes: number;
  /** Most requests of one connection in flight at once (pipelined), count; the next is not read until they are answered. */
  readonly maxPipelinedRequests: number;
  /** Forward request header names containing `_` (dropped by default: CGI reads `X_Forwarded_For` as `X-Forwarded-For`). */
  readonly allowUnderscoreHeaders?: boolean;
  /** Caps on open connections (shared with the TCP ports); absent = none. */
  readonly caps?: ConnectionCaps;
  /** Pooled read buffers for public connections (request bodies then cross uncopied); without it each read allocates. */
  readonly readPool?: ReadBufferPool;
  /** `request`: each request picks its client; `connection`: a connection stays with its client (see PublicConnection). */
  readonly balance: BalanceMode;
}

/** What one balancing decision covers. */
export type BalanceMode = 'request' | 'connection';

/** A public connection as a holder of tunnel streams (see PublicHttp.bind). */
export interface StreamHolder {
  /** Lets go of the idle stream it holds on `session`, if any. */
  leaveIfIdle(session: Session): void;
  /** The client of `session` turned unresponsive: replays the requests owed on it elsewhere, when safe. */
  rescue(session: Session): void;
}

/** Counters the exit server reports. */
export interface PublicCounters {
  /** Requests answered 503 because no client served the host. */
  noRoute: number;
  /** Requests currently in flight. */
  inFlight: number;
  /** Public connections currently open. */
  connections: number;
  /** Requests replayed on another client because theirs vanished before answering (see ResponseSide.rescue). */
  rescued: number;
}

/** Where finished requests are counted and logged. */
export interface RequestObservers {
  /** Metrics the requests update. */
  readonly metrics: ExitMetrics;
  /** The access log (one line per request); undefined = off. */
  readonly accessLog?: Logger;
}

/** The request target without its query string: queries may carry secrets, so no log gets them. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/**
 * The public HTTP side. A public connection is carried by tunnel streams to edge clients, each
 * of which holds one connection to its upstream per stream: request heads are parsed here
 * (routing by Host, `X-Forwarded-*`, strict framing) and re-written, while bodies and responses
 * pass through as bytes. Responses are still framed here, to answer 502/504 at the right moment
 * and to move the next request of a keep-alive connection to another client.
 */
export class PublicHttp {
  /** Counters for status and logs. */
  readonly counters: PublicCounters = { noRoute: 0, inFlight: 0, connections: 0, rescued: 0 };
  /** While draining, new requests get 503. */
  draining = false;
  /** Metrics of the requests. */
  readonly metrics: ExitMetrics;
  private readonly accessLog: Logger | undefined;
  private readonly conns = new Set<PublicConnection>();
  /** The connections holding a stream on each session (their cores: they hold the streams). */
  private readonly bySession = new Map<Session, Set<StreamHolder>>();

  constructor(
    /** Where requests go. */
    readonly router: Router,
    /** Settings. */
    readonly opts: PublicHttpOptions,
    /** Logger of the public side. */
    readonly log: Logger,
    observers: RequestObservers = { metrics: new ExitMetrics(router, 'unnamed') },
  ) {
    this.metrics = observers.metrics;
    this.accessLog = observers.accessLog;
  }

  /**
   * Counts and logs one finished request (answered with `status`, or cut: 499 when the public
   * client left first). `series` is its binding's; requests no binding took pass none.
   */
  requestDone(p: Pending, status: number, client: ClientConn | undefined, series?: RequestSeries): void {
    const now = performance.now();
    const firstByteMs = p.firstByte >= 0 ? p.firstByte - p.started : -1;
    this.metrics.requestDone(series ?? this.metrics.requestSeries(p.host, client), status, firstByteMs, now - p.started);
    this.accessLog?.info(
      {
        remote: p.remote,
        method: p.method,
        host: p.host,
        path: pathOf(p.target),
        status,
        bytesIn: p.bytesIn,
        bytesOut: p.bytesOut,
        ms: Math.round((now - p.started) * 10) / 10,
        client: client?.hello.clientId,
        requestId: p.requestId,
      },
      'request',
    );
  }

  /** `connection` listener of the public server. */
  readonly handleConnection = (accepted: Socket): void => {
    const release = admit(this.opts.caps, accepted, this.opts.trustProxy, this.log);
    if (!release) return;
    const socket = readAcceptedIntoPool(accepted, this.opts.readPool);
    const conn = new PublicConnection(this, socket);
    this.conns.add(conn);
    this.counters.connections++;
    socket.once('close', () => {
      release();
      this.conns.delete(conn);
      this.counters.connections--;
    });
  };

  /** The client of `session` is at its stream limit: idle kept-alive connections on it let go of their streams. Returns how many were freed. */
  reclaimIdle(session: Session): number {
    const before = session.activeStreams;
    for (const c of [...(this.bySession.get(session) ?? [])]) c.leaveIfIdle(session);
    return before - session.activeStreams;
  }

  /** Tracks which connections ride on which session, so a client that starts draining can be left between requests. */
  bind(conn: StreamHolder, session: Session): void {
    let set = this.bySession.get(session);
    if (!set) {
      set = new Set();
      this.bySession.set(session, set);
      const forget = () => this.bySession.delete(session);
      session.once('close', forget);
      session.once('goaway', () => {
        for (const c of [...(set ?? [])]) c.leaveIfIdle(session);
      });
      session.on('responsive', (ok: boolean) => {
        if (!ok) for (const c of [...(set ?? [])]) c.rescue(session);
      });
    }
    set.add(conn);
  }

  /** Forgets a connection's binding to a session. */
  unbind(conn: StreamHolder, session: Session): void {
    this.bySession.get(session)?.delete(conn);
  }

  /** Connections accepted that have not sent a request yet (a drain waits a moment for them). */
  get freshConnections(): number {
    let n = 0;
    for (const c of this.conns) if (c.fresh) n++;
    return n;
  }

  /** Starts draining: idle connections close now, busy ones after their last response. */
  drain(): void {
    this.draining = true;
    for (const c of this.conns) c.closeIfIdle();
  }

  /** Cuts every connection (end of a drain). */
  destroyAll(): void {
    for (const c of this.conns) c.destroy();
  }
}
