import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { HA_CONNECTIONS_MAX, type EdgeClientConfig } from '@tunnel/config';
import {
  HELLO_HEADER,
  ResetCode,
  resetCodeToError,
  TUNNEL_PATH,
  WELCOME_HEADER,
  bearer,
  decodeWelcome,
  type Logger,
  type Session,
  type TunnelStream,
  type Welcome,
} from '@tunnel/tunnel-protocol';
import { readPoolFor, type ReadBufferPool } from '@tunnel/tunnel-io';
import { EdgeMetrics } from './metrics/edge-metrics.ts';
import { dial, type DialOptions, type DialRefusal, type DialResult, type Dialing } from './dial.ts';
import { logRefusal } from './refusal-log.ts';
import { clientHello } from './client-hello.ts';
import { openClientSession } from './client-session.ts';
import { Coverage } from './ha/coverage.ts';
import { retryAfterDelayMs } from './retry-after.ts';
import { proxyHttp } from './proxy-http.ts';
import { TcpForwards, proxyTcp } from './proxy-tcp.ts';
import { Upstreams } from './upstreams.ts';
import { tlsCiphersFor } from './tls-ciphers.ts';
import { ReconnectBackoff } from './reconnect-backoff.ts';

/** What the entry point hands in besides the config. */
export interface EdgeClientIo {
  /** The access log (one line per request); undefined = off. */
  readonly accessLog?: Logger;
  /** Export Node's process metrics too (once per process: the entry point sets it). */
  readonly processMetrics?: boolean;
}

/** Connection state, for tests and the demo. `connected`: at least one session serves. */
export type EdgeClientState = 'connecting' | 'connected' | 'waiting' | 'draining' | 'stopped';

/** One session to one exit-server instance. */
interface Link {
  readonly session: Session;
  readonly welcome: Welcome;
  /** The server knows PEERS frames (its welcome carried `peers`). */
  readonly peersAware: boolean;
}

/**
 * The edge client: dials out to the exit servers, keeps the sessions alive, serves the streams
 * the servers open by proxying them to local upstreams, and reconnects forever with backoff.
 *
 * High availability: every exit server advertises the live instances (its welcome, then PEERS
 * frames). The client dials its one `--url` (through the load balancer) again and again until
 * it holds one session per advertised instance (`--ha-connections`), closes duplicates at once,
 * replaces lost sessions, and serves on all of them (see ha/coverage.ts for the rules).
 *
 * Events: `connected` (welcome of each session kept), `disconnected` (reason), `refused`
 * ({ status, code }), `state`, `attached` / `detached` (instance id).
 */
export class EdgeClient {
  /** Current state. */
  state: EdgeClientState = 'connecting';
  private readonly upstreams: Upstreams;
  private readonly tcp: TcpForwards;
  private readonly backoff: ReconnectBackoff;
  private readonly clientId: string;
  /** What wss:// dials trust (--ca-file) and offer (--tls-ciphers, see tlsCiphersFor). */
  private readonly tls: Pick<DialOptions, 'ca' | 'ciphers'>;
  /** Pooled read buffers for the control connections; without it each read allocates. */
  private readonly readPool: ReadBufferPool | undefined;
  private readonly coverage: Coverage;
  private readonly links = new Map<string, Link>();
  /** Sessions closing (duplicates, surplus, draining servers): finished on stop. */
  private readonly leaving = new Set<Session>();
  private dialing: Dialing | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Map<string, Set<(arg: unknown) => void>>();
  /** Prometheus metrics (served by the entry point on --metrics-bind). */
  readonly metrics: EdgeMetrics;
  private readonly accessLog: Logger | undefined;
  /** Requests are followed (parsed as they pass) only when counted or logged. */
  private readonly followRequests: boolean;

  constructor(
    private readonly config: EdgeClientConfig,
    private readonly log: Logger,
    io: EdgeClientIo = {},
  ) {
    this.metrics = new EdgeMetrics(() => {
      let streams = 0;
      for (const l of this.links.values()) streams += l.session.activeStreams;
      return { connected: this.state === 'connected', sessions: this.links.size, streams };
    }, io.processMetrics ?? false);
    this.accessLog = io.accessLog;
    this.followRequests = config.metricsBind !== undefined || io.accessLog !== undefined;
    this.upstreams = new Upstreams(config.upstream, config.maxUpstreamSockets);
    this.tcp = new TcpForwards(config.tcp, config.proxyProtocol);
    this.backoff = new ReconnectBackoff(config.reconnectMin, config.reconnectMax);
    this.clientId = config.id ?? hostname();
    this.tls = { ca: config.caFile ? readFileSync(config.caFile) : undefined, ciphers: tlsCiphersFor(config.tlsCiphers) };
    this.readPool = readPoolFor(config);
    this.coverage = new Coverage(config.haConnections === 'all' ? HA_CONNECTIONS_MAX : config.haConnections);
  }

  /** A serving session, if any (the first attached). */
  get session(): Session | undefined {
    return this.links.values().next().value?.session;
  }

  /** Welcome of {@link session}. */
  get welcome(): Welcome | undefined {
    return this.links.values().next().value?.welcome;
  }

  /** Instance ids of the exit servers this client serves on. */
  get attached(): string[] {
    return this.coverage.attached;
  }

  /** Subscribes to an event (see class doc). */
  on(event: string, fn: (arg: unknown) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  private emit(event: string, arg?: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) fn(arg);
  }

  private setState(state: EdgeClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private get stopping(): boolean {
    return this.state === 'stopped' || this.state === 'draining';
  }

  /** Starts connecting (returns at once; watch `connected`). */
  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopping || this.dialing) return;
    if (this.links.size === 0) this.setState('connecting');
    const url = new URL(this.config.url);
    url.pathname = url.pathname.replace(/\/$/, '') + TUNNEL_PATH;
    const hello = clientHello({
      clientId: this.clientId,
      hostnames: this.upstreams.declaredHostnames,
      tcpPorts: this.tcp.ports,
      servesHttp: this.upstreams.all.length > 0,
      weight: this.config.weight,
    });
    this.log.info(
      { url: url.origin, attempt: this.backoff.attempts, attached: this.coverage.attached.length, wanted: this.coverage.target },
      'connecting to exit server',
    );
    const dialing = dial(url, {
      headers: { authorization: bearer(this.config.token), [HELLO_HEADER]: hello },
      ...this.tls,
      timeoutMs: this.config.dialTimeout,
    });
    this.dialing = dialing;
    dialing.result.then(
      (res) => {
        if (this.dialing === dialing) this.dialing = undefined;
        this.dialed(res);
      },
      (err: NodeJS.ErrnoException) => {
        if (this.dialing === dialing) this.dialing = undefined;
        if (!this.stopping) this.log.warn({ err: err.code ?? err.message }, 'connection failed');
        this.scheduleDial();
      },
    );
  }

  /** A dial's answer: a refusal (dial again, after its Retry-After), or a tunnel to serve on if its welcome reads. */
  private dialed(res: DialResult): void {
    if (res.kind === 'refused') {
      this.refused(res);
      return;
    }
    let welcome: Welcome;
    try {
      welcome = decodeWelcome(res.response.headers[WELCOME_HEADER] as string | undefined);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'exit server sent a bad welcome');
      res.socket.destroy();
      this.scheduleDial();
      return;
    }
    if (this.stopping) {
      res.socket.destroy();
      return;
    }
    this.onOpen(res.socket, res.head, welcome);
    this.scheduleDial();
  }

  /** The server answered without upgrading: says why, and dials again after the backoff (or its Retry-After). */
  private refused(res: DialRefusal): void {
    logRefusal(this.log, res);
    this.emit('refused', { status: res.status, code: res.code });
    this.scheduleDial(retryAfterDelayMs(res.status, res.retryAfterS, this.config.reconnectMax));
  }

  private onOpen(socket: Socket, head: Buffer, welcome: Welcome): void {
    const instance = welcome.instanceId;
    const log = this.log.child({ session: welcome.sessionId, instance });
    const session = openClientSession(socket, head, welcome, {
      config: this.config,
      readPool: this.readPool,
      log,
      // Every session serves, even one about to close: a request the server routed before it
      // saw our GOAWAY is answered, not lost.
      onStream: (stream) => this.serve(stream, log),
    });
    const peers = welcome.peers ?? [];
    const decision = this.coverage.opened(instance, peers);
    if (decision !== 'keep') {
      log.info(
        { decision, attached: this.coverage.attached },
        decision === 'duplicate'
          ? 'already attached to this exit server: closing the duplicate session'
          : 'enough exit servers attached: closing the extra session',
      );
      this.leave(session);
      return;
    }
    const link: Link = { session, welcome, peersAware: welcome.peers !== undefined };
    const connectedAt = this.attach(link, log);
    session.on('peers', (ids: readonly string[]) => this.onPeers(instance, ids, log));
    session.once('goaway', (reason: number) => this.onGoAway(link, reason, log));
    session.once('close', (err) => this.onLost(link, connectedAt, err?.code ?? 'closed', log));
  }

  /** Serves on a kept session: links it, says so, tells the servers; returns when (Date.now(), ms). */
  private attach(link: Link, log: Logger): number {
    const { welcome } = link;
    const instance = welcome.instanceId;
    this.links.set(instance, link);
    this.metrics.sessions.value++;
    const connectedAt = Date.now();
    this.backoff.attached();
    this.setState('connected');
    log.info({ hostnames: this.upstreams.declaredHostnames, tcpPorts: welcome.tcpPorts?.accepted ?? [] }, 'tunnel established');
    log.info({ attached: this.coverage.attached, wanted: this.coverage.wanted }, 'attached to exit server');
    for (const r of welcome.tcpPorts?.refused ?? [])
      log.error({ port: r.port, code: r.code, reason: r.reason }, 'exit server refused a TCP port');
    this.emit('connected', welcome);
    this.emit('attached', instance);
    this.reportAttachments();
    return connectedAt;
  }

  /** The server at `instance` advertised its peers: new ones are dialled at once. */
  private onPeers(instance: string, ids: readonly string[], log: Logger): void {
    const added = this.coverage.advertised(instance, ids);
    log.debug({ peers: ids }, 'exit server advertised its peers');
    if (added.length > 0) {
      log.info({ added, wanted: this.coverage.wanted }, 'new exit servers advertised: attaching');
      // New instances are worth a fresh, short backoff: the old one may have grown on duplicates.
      this.backoff.reset();
      this.redial();
    } else {
      this.scheduleDial();
    }
  }

  /** The server of `link` sent GOAWAY: serve through the others while this session finishes. */
  private onGoAway(link: Link, reason: number, log: Logger): void {
    const { session } = link;
    const instance = link.welcome.instanceId;
    if (reason === ResetCode.SESSION_REPLACED || reason === ResetCode.TOKEN_REVOKED) {
      log.warn(
        { code: resetCodeToError(reason) },
        reason === ResetCode.SESSION_REPLACED
          ? 'exit server replaced this session: another process with this id connected'
          : 'exit server revoked this token: draining',
      );
    }
    if (this.links.get(instance) !== link) return;
    this.detach(instance, 'draining');
    log.info({ attached: this.coverage.attached }, 'exit server is draining: serving through the others');
    this.leaving.add(session);
    session.once('close', () => this.leaving.delete(session));
    this.scheduleDial();
  }

  /** The session of `link` closed (`code`: why); a session that held for a while earns a fresh, short backoff. */
  private onLost(link: Link, connectedAt: number, code: string, log: Logger): void {
    const instance = link.welcome.instanceId;
    this.backoff.lost(Date.now() - connectedAt);
    log.warn({ code }, 'tunnel lost');
    // Still linked: lost without a GOAWAY (killed, network cut), so not known to be draining.
    if (this.links.get(instance) === link) this.detach(instance, code);
    this.emit('disconnected', code);
    this.scheduleDial();
  }

  /** Forgets the link to `instance` (draining or lost) and tells the others. */
  private detach(instance: string, reason: string): void {
    this.links.delete(instance);
    if (reason === 'draining') this.coverage.draining(instance);
    else this.coverage.lost(instance);
    this.log.info({ instance, reason, attached: this.coverage.attached }, 'detached from exit server');
    this.emit('detached', instance);
    if (this.links.size === 0 && !this.stopping) this.setState('waiting');
    this.reportAttachments();
  }

  /** Tells every server that knows PEERS frames which instances this client is attached to (its /status shows them). */
  private reportAttachments(): void {
    const ids = this.coverage.attached;
    for (const l of this.links.values()) if (l.peersAware) l.session.sendPeers(ids);
  }

  /** Closes a session we do not keep: GOAWAY first, so what the server routed there meanwhile is refused (retried elsewhere), never lost. */
  private leave(session: Session): void {
    this.leaving.add(session);
    void session.goAway(this.config.drainTimeout).then(() => {
      session.close();
      this.leaving.delete(session);
    });
  }

  private serve(stream: TunnelStream, log: Logger): void {
    const head = stream.head;
    if (head.kind === 'tcp') {
      this.metrics.tcpConnection(head.port);
      proxyTcp(stream, head, this.tcp, { connectTimeoutMs: this.config.upstreamConnectTimeout, readPool: this.readPool }, log);
      return;
    }
    if (this.upstreams.all.length === 0) {
      stream.reset(ResetCode.NO_ROUTE);
      return;
    }
    proxyHttp(
      stream,
      head,
      this.upstreams,
      {
        connectTimeoutMs: this.config.upstreamConnectTimeout,
        readPool: this.readPool,
        metrics: this.followRequests ? this.metrics : undefined,
        accessLog: this.accessLog,
      },
      log,
    );
  }

  /** Dials again after the backoff unless all wanted are attached; `retryAfterMs` (see retryAfterDelayMs) may lengthen the wait. */
  private scheduleDial(retryAfterMs?: number): void {
    if (this.stopping || this.retryTimer || this.dialing || this.coverage.covered) return;
    const delay = Math.max(this.backoff.next(), retryAfterMs ?? 0);
    if (this.links.size === 0) this.setState('waiting');
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts, retryAfterMs }, 'reconnecting after backoff');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.metrics.reconnects.value++;
      this.connect();
    }, delay);
  }

  /** Replaces a pending (possibly long) wait with a fresh one. */
  private redial(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.scheduleDial();
  }

  /** Clean drain: ask every server for no new streams, finish in-flight ones (bounded), close. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('draining');
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.dialing?.abort();
    const sessions = [...[...this.links.values()].map((l) => l.session), ...this.leaving].filter((s) => !s.isClosed);
    await Promise.all(
      sessions.map(async (s) => {
        await s.goAway(this.config.drainTimeout);
        s.close();
      }),
    );
    this.setState('stopped');
  }
}
