import { readFileSync } from 'node:fs';
import type { ExitServerConfig } from '@tunnel/config';
import { DEFAULT_LIMITS, type Logger, type SessionLimits } from '@tunnel/tunnel-protocol';
import { readPoolFor, type ReadBufferPool } from '@tunnel/tunnel-io';
import { StickyCookies } from './balance/sticky.ts';
import type { ClientConn } from './client-conn.ts';
import { AuthRateLimit } from './auth-rate-limit.ts';
import { ClientAdmission, RECENTLY_HEARD_PING_INTERVALS } from './client-admission.ts';
import { ControlPlane, newInstanceId } from './control.ts';
import { TokenFiles } from './token-files.ts';
import { PeerDiscovery, type Resolver } from './peers/peer-discovery.ts';
import { httpProbe } from './peers/probe.ts';
import { ConnectionCaps } from './connection-caps.ts';
import { ExitMetrics } from './metrics/exit-metrics.ts';
import { registerUi } from './ui/ui-routes.ts';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TcpPorts } from './tcp-ports.ts';

/**
 * Most source addresses the auth rate limit tracks at once (count): bounds its memory when
 * many addresses fail; past it the oldest entries go.
 */
const AUTH_RATE_LIMIT_MAX_ADDRESSES = 100_000;

/** Test seams of startExitServer, and what the entry point hands in besides the config. */
export interface ExitServerDeps {
  /** Resolves `--peers-dns` (default: getaddrinfo). */
  readonly resolve?: Resolver;
  /** The access log (one line per request); undefined = off. */
  readonly accessLog?: Logger;
  /** Export Node's process metrics too (once per process: the entry point sets it). */
  readonly processMetrics?: boolean;
}

/** The parts of an exit server, wired together but not yet listening. */
export interface ServerParts {
  /** This instance's id. */
  readonly instanceId: string;
  /** The control port's certificate and key (--tls-cert, --tls-key), if it serves TLS. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** Peer discovery (not started). */
  readonly peers: PeerDiscovery;
  /** The routing table. */
  readonly router: Router;
  /** Prometheus metrics. */
  readonly metrics: ExitMetrics;
  /** The public TCP ports (not open). */
  readonly tcpPorts: TcpPorts;
  /** The public HTTP side (its connection handler; no listener). */
  readonly publicHttp: PublicHttp;
  /** --token-file / --tokens-file (not watched yet). */
  readonly tokenFiles: TokenFiles;
  /** The control port's app, admin routes (/metrics, /ui) registered (not listening). */
  readonly control: ControlPlane;
}

/** Builds and wires the parts of an exit server from its config; nothing listens yet. */
export function buildServerParts(config: ExitServerConfig, logger: Logger, deps: ExitServerDeps): ServerParts {
  const instanceId = config.instanceId ?? newInstanceId();
  const tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  const peers = new PeerDiscovery(
    {
      selfId: instanceId,
      peers: config.peer,
      dns: config.peersDns,
      intervalMs: config.peerInterval,
      timeoutMs: config.peerTimeout,
      probe: httpProbe(tls !== undefined),
      resolve: deps.resolve,
    },
    logger.child({ component: 'peers' }),
  );
  const readPool = readPoolFor(config);
  const caps = new ConnectionCaps(config.maxConnections, config.maxConnectionsPerAddress);
  const router = new Router(config.balancePolicy, stickyCookies(config, logger));
  const metrics = new ExitMetrics(router, instanceId, deps.processMetrics ?? false);
  const tcpPorts = new TcpPorts(
    router,
    {
      bind: config.bind,
      fixed: config.tcpPort,
      range: config.tcpPortRange,
      readPool,
      idleTimeoutMs: config.tcpIdleTimeout,
      caps,
      connectionCounter: (port) => metrics.tcpConnections(port),
    },
    logger.child({ component: 'tcp' }),
  );
  const publicHttp = newPublicHttp(config, router, { caps, readPool, metrics, accessLog: deps.accessLog }, logger);
  const { tokenFiles, control } = newControlPlane(
    config,
    { instanceId, tls, router, metrics, tcpPorts, publicHttp, readPool, peers },
    logger,
  );
  peers.on('change', (live: string[]) => control.advertisePeers(live));
  registerAdminRoutes(config, { instanceId, tls, router, metrics, control });
  return { instanceId, tls, peers, router, metrics, tcpPorts, publicHttp, tokenFiles, control };
}

/** The sticky-cookie signer of --sticky-cookie, if set: signed with --sticky-secret-*, else a random secret (said in the log). */
function stickyCookies(config: ExitServerConfig, logger: Logger): StickyCookies<ClientConn> | undefined {
  if (config.stickyCookie === undefined) return undefined;
  // config.stickySecret is resolved by libs/config from --sticky-secret-env/-file (never logged).
  const secret = config.stickySecret === undefined ? undefined : Buffer.from(config.stickySecret, 'utf8');
  const sticky = new StickyCookies<ClientConn>(config.stickyCookie, secret ?? StickyCookies.randomSecret());
  if (!secret) {
    logger.info(
      { cookie: config.stickyCookie },
      'sticky cookies are signed with a random secret of this process: they stop working across a restart and on other exit servers unless --sticky-secret-env/--sticky-secret-file gives every server the same one',
    );
  }
  return sticky;
}

/** The public HTTP side: its timeouts and limits from the config. */
function newPublicHttp(
  config: ExitServerConfig,
  router: Router,
  shared: { caps: ConnectionCaps; readPool: ReadBufferPool | undefined; metrics: ExitMetrics; accessLog: Logger | undefined },
  logger: Logger,
): PublicHttp {
  return new PublicHttp(
    router,
    {
      requestTimeoutMs: config.requestTimeout,
      trustProxy: config.trustProxy,
      maxHeaderBytes: config.maxHeaderBytes,
      headersTimeoutMs: config.headersTimeout,
      bodyTimeoutMs: config.bodyTimeout,
      streamIdleTimeoutMs: config.streamIdleTimeout,
      sendTimeoutMs: config.sendTimeout,
      upstreamReadTimeoutMs: config.upstreamReadTimeout,
      keepAliveTimeoutMs: config.keepAliveTimeout,
      maxHeldBytes: config.maxHeldBytes,
      maxPipelinedRequests: config.maxPipelinedRequests,
      allowUnderscoreHeaders: config.allowUnderscoreHeaders,
      caps: shared.caps,
      readPool: shared.readPool,
      balance: config.balance,
    },
    logger.child({ component: 'public' }),
    { metrics: shared.metrics, accessLog: shared.accessLog },
  );
}

/** The session limits this server offers its clients (the welcome carries them). */
function sessionLimits(config: ExitServerConfig): SessionLimits {
  return {
    ...DEFAULT_LIMITS,
    maxFrameBytes: config.maxFrameBytes,
    maxHeaderBytes: config.maxHeaderBytes,
    streamWindow: config.streamWindow,
    maxStreams: config.maxStreamsPerClient,
    pingIntervalMs: config.pingInterval,
    idleTimeoutMs: config.idleTimeout,
    unresponsiveAfterMs: config.unresponsiveAfter,
    maxQueuedReplies: config.maxQueuedReplies,
  };
}

/** The parts the control plane reports on or hands sessions to. */
type ControlPeers = Pick<ServerParts, 'instanceId' | 'tls' | 'router' | 'metrics' | 'tcpPorts' | 'publicHttp' | 'peers'> & {
  readonly readPool: ReadBufferPool | undefined;
};

/** The control plane with its admission of clients (tokens from --token-file/--tokens-file, re-checked on reload). */
function newControlPlane(config: ExitServerConfig, p: ControlPeers, logger: Logger): { tokenFiles: TokenFiles; control: ControlPlane } {
  const authRateLimit = new AuthRateLimit({
    maxFailures: config.authFailureLimit,
    windowMs: config.authFailureWindow,
    maxAddresses: AUTH_RATE_LIMIT_MAX_ADDRESSES,
  });
  // eslint-disable-next-line prefer-const -- assigned once the admission that it notifies exists
  let admission: ClientAdmission;
  const tokenFiles = new TokenFiles(config, () => admission.revalidate(), logger.child({ component: 'auth' }));
  admission = new ClientAdmission(
    {
      credentials: () => tokenFiles.credentials,
      rateLimit: authRateLimit,
      maxStreams: config.maxStreamsPerClient,
      drainTimeoutMs: config.drainTimeout,
      recentlyHeardMs: RECENTLY_HEARD_PING_INTERVALS * config.pingInterval,
    },
    p.router,
    logger.child({ component: 'control' }),
  );
  const control = new ControlPlane(
    p.router,
    {
      admission,
      authRateLimit,
      trustProxy: config.trustProxy,
      adminToken: config.adminToken,
      instanceId: p.instanceId,
      limits: sessionLimits(config),
      handshakeTimeoutMs: config.handshakeTimeout,
      keepAliveTimeoutMs: config.keepAliveTimeout,
      maxConnections: config.maxControlConnections,
      tls: p.tls,
      statusExtra: () => ({
        publicRequestsInFlight: p.publicHttp.counters.inFlight,
        publicNoRoute: p.publicHttp.counters.noRoute,
        publicReplayed: p.publicHttp.counters.rescued,
        publicConnections: p.publicHttp.counters.connections,
        tcpPorts: p.tcpPorts.stats(),
        readPool: p.readPool?.stats(),
      }),
      tcpPorts: p.tcpPorts,
      readPool: p.readPool,
      peers: p.peers,
      readyTimeoutMs: config.readyTimeout,
      metrics: p.metrics,
    },
    logger.child({ component: 'control' }),
  );
  return { tokenFiles, control };
}

/** Admin routes on the control port: Prometheus text (/metrics), and the live status page (/ui). */
function registerAdminRoutes(
  config: ExitServerConfig,
  p: Pick<ServerParts, 'instanceId' | 'tls' | 'router' | 'metrics' | 'control'>,
): void {
  const { control, metrics, router } = p;
  control.app.get('/metrics', { preHandler: control.requireAdmin }, async (_req, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  registerUi(control.app, {
    instanceId: p.instanceId,
    adminToken: () => config.adminToken,
    state: () => ({ clients: [...router.clients].map((c) => c.toStatus()), rates: metrics.rates.points() }),
    secure: p.tls !== undefined,
    onRefused: (reason) => metrics.authFailure(reason),
  });
}
