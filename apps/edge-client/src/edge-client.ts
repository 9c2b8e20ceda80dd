import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { EdgeClientConfig } from '@tunnel/config';
import {
  DEFAULT_LIMITS,
  HELLO_HEADER,
  PROTOCOL_VERSION,
  ResetCode,
  Session,
  TUNNEL_PATH,
  WELCOME_HEADER,
  bearer,
  decodeWelcome,
  encodeHello,
  rawWebSocketTransport,
  readIntoPool,
  readPoolFor,
  type Logger,
  type ReadBufferPool,
  type TunnelStream,
  type Welcome,
} from '@tunnel/tunnel-protocol';
import { Backoff } from './backoff.ts';
import { dial, type Dialing } from './dial.ts';
import { proxyHttp } from './proxy-http.ts';
import { TcpForwards, proxyTcp } from './proxy-tcp.ts';
import { Upstreams } from './upstreams.ts';

/** Connection state, for tests and the demo. */
export type EdgeClientState = 'connecting' | 'connected' | 'waiting' | 'draining' | 'stopped';


/**
 * The edge client: dials out to the exit server, keeps the session alive, serves the streams the
 * server opens by proxying them to local upstreams, and reconnects forever with backoff.
 *
 * Events: `connected` (welcome), `disconnected` (reason), `refused` ({ status, code }), `state`.
 */
export class EdgeClient {
  /** Current state. */
  state: EdgeClientState = 'connecting';
  /** The live session, if connected. */
  session: Session | undefined;
  /** Welcome of the current session. */
  welcome: Welcome | undefined;
  private readonly upstreams: Upstreams;
  private readonly tcp: TcpForwards;
  private readonly backoff: Backoff;
  private readonly clientId: string;
  private readonly ca: Buffer | undefined;
  /** Pooled read buffers for the control connection; without it each read allocates. */
  private readonly readPool: ReadBufferPool | undefined;
  private dialing: Dialing | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Map<string, Set<(arg: unknown) => void>>();

  constructor(
    private readonly config: EdgeClientConfig,
    private readonly log: Logger,
  ) {
    this.upstreams = new Upstreams(config.upstream, config.maxUpstreamSockets);
    this.tcp = new TcpForwards(config.tcp, config.proxyProtocol);
    this.backoff = new Backoff(config.reconnectMin, config.reconnectMax);
    this.clientId = config.id ?? hostname();
    this.ca = config.caFile ? readFileSync(config.caFile) : undefined;
    this.readPool = readPoolFor(config);
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
    this.state = state;
    this.emit('state', state);
  }

  /** Starts connecting (returns at once; watch `connected`). */
  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.state === 'stopped' || this.state === 'draining') return;
    this.setState('connecting');
    const url = new URL(this.config.url);
    url.pathname = url.pathname.replace(/\/$/, '') + TUNNEL_PATH;
    const hello = encodeHello({
      version: PROTOCOL_VERSION,
      clientId: this.clientId,
      hostnames: this.upstreams.declaredHostnames,
      tcpPorts: this.tcp.ports,
      // Without an HTTP upstream the server must not route HTTP here.
      capabilities: this.upstreams.all.length > 0 ? ['http', 'upgrade', 'tcp'] : ['tcp'],
    });
    const log = this.log;
    log.info({ url: url.origin, attempt: this.backoff.attempts }, 'connecting to exit server');
    const dialing = dial(url, { headers: { authorization: bearer(this.config.token), [HELLO_HEADER]: hello }, ca: this.ca, timeoutMs: 10_000 });
    this.dialing = dialing;
    dialing.result.then(
      (res) => {
        if (this.dialing === dialing) this.dialing = undefined;
        if (res.kind === 'refused') {
          if (res.status === 401) {
            log.error({ status: res.status, code: res.code }, 'exit server refused the token (TUN_ERR_AUTH): check --token-env/--token-file on both ends; retrying with backoff in case the secret is being rotated');
          } else {
            log.error({ status: res.status, code: res.code, message: res.body.trim().slice(0, 300) }, 'exit server refused the connection');
          }
          this.emit('refused', { status: res.status, code: res.code });
          this.scheduleReconnect();
          return;
        }
        let welcome: Welcome;
        try {
          welcome = decodeWelcome(res.response.headers[WELCOME_HEADER] as string | undefined);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'exit server sent a bad welcome');
          res.socket.destroy();
          this.scheduleReconnect();
          return;
        }
        if (this.state === 'stopped' || this.state === 'draining') {
          res.socket.destroy();
          return;
        }
        this.onOpen(res.socket, res.head, welcome);
      },
      (err: NodeJS.ErrnoException) => {
        if (this.dialing === dialing) this.dialing = undefined;
        if (this.state === 'connecting') log.warn({ err: err.code ?? err.message }, 'connection failed');
        this.scheduleReconnect();
      },
    );
  }

  private onOpen(socket: Socket, head: Buffer, welcome: Welcome): void {
    const log = this.log.child({ session: welcome.sessionId });
    this.welcome = welcome;
    const conn = readIntoPool(socket, this.readPool, head);
    const session = new Session({
      role: 'client',
      transport: rawWebSocketTransport(conn.socket, { role: 'client', head: conn.head }),
      limits: {
        ...DEFAULT_LIMITS,
        maxFrameBytes: welcome.limits.maxFrameBytes,
        maxHeaderBytes: welcome.limits.maxHeaderBytes,
        // Both ends must start every stream with the same credit: the server's window rules.
        streamWindow: welcome.limits.streamWindow,
        maxStreams: welcome.limits.maxStreams,
        pingIntervalMs: this.config.pingInterval,
        idleTimeoutMs: this.config.idleTimeout,
        maxQueuedReplies: this.config.maxQueuedReplies,
      },
      logger: log,
      onStream: (stream) => this.serve(stream, log),
    });
    this.session = session;
    const connectedAt = Date.now();
    this.setState('connected');
    log.info({ instance: welcome.instanceId, hostnames: this.upstreams.declaredHostnames, tcpPorts: welcome.tcpPorts?.accepted ?? [] }, 'tunnel established');
    for (const r of welcome.tcpPorts?.refused ?? []) log.error({ port: r.port, code: r.code, reason: r.reason }, 'exit server refused a TCP port');
    this.emit('connected', welcome);
    session.once('close', (err) => {
      this.session = undefined;
      // A session that held for a while earns a fresh, short backoff.
      if (Date.now() - connectedAt > this.config.reconnectMin * 4) this.backoff.reset();
      log.warn({ code: err?.code ?? 'closed' }, 'tunnel lost');
      this.emit('disconnected', err?.code ?? 'closed');
      this.scheduleReconnect();
    });
  }

  private serve(stream: TunnelStream, log: Logger): void {
    const head = stream.head;
    if (head.kind === 'tcp') {
      proxyTcp(stream, head, this.tcp, { connectTimeoutMs: this.config.upstreamConnectTimeout, readPool: this.readPool }, log);
      return;
    }
    if (this.upstreams.all.length === 0) {
      stream.reset(ResetCode.NO_ROUTE);
      return;
    }
    proxyHttp(stream, head, this.upstreams, { connectTimeoutMs: this.config.upstreamConnectTimeout, readPool: this.readPool }, log);
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped' || this.state === 'draining' || this.retryTimer) return;
    const delay = this.backoff.next();
    this.setState('waiting');
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnecting after backoff');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  /** Clean drain: ask the server for no new streams, finish in-flight ones (bounded), close. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasConnected = this.session;
    this.setState('draining');
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (wasConnected && !wasConnected.isClosed) {
      await wasConnected.goAway(this.config.drainTimeout);
      wasConnected.close();
    }
    this.dialing?.abort();
    this.setState('stopped');
  }
}
