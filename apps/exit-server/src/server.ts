import { createServer, type AddressInfo, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import type { ExitServerConfig } from '@tunnel/config';
import { startMetricsServer, type MetricsServer } from '@tunnel/observability';
import { DEFAULT_LIMITS, type Logger, type SessionLimits } from '@tunnel/tunnel-protocol';
import { SINK_SOCKET_HIGH_WATER_MARK, readPoolFor } from '@tunnel/tunnel-io';
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
 * How long a drain waits for the first request of connections accepted just before the public
 * port closed, ms: a load balancer may have sent them before it saw this server unhealthy.
 */
const FRESH_CONNECTION_GRACE_MS = 1000;

/** How often a drain looks whether the requests in flight are done, ms. */
const DRAIN_POLL_MS = 20;

/**
 * Most source addresses the auth rate limit tracks at once (count): bounds its memory when
 * many addresses fail; past it the oldest entries go.
 */
const AUTH_RATE_LIMIT_MAX_ADDRESSES = 100_000;

/** A running exit server. */
export interface ExitServer {
  /** Bound public HTTP port. */
  readonly port: number;
  /** Bound control port. */
  readonly controlPort: number;
  /** Public TCP ports. */
  readonly tcpPorts: TcpPorts;
  /** This instance's id. */
  readonly instanceId: string;
  /** Routing table (read-only use: tests and status). */
  readonly router: Router;
  /** Peer discovery (read-only use: tests and status). */
  readonly peers: PeerDiscovery;
  /** The control port: its Fastify app and `requireAdmin` guard, for further admin routes (/metrics, /ui). */
  readonly control: ControlPlane;
  /** Prometheus metrics. */
  readonly metrics: ExitMetrics;
  /** Bound port of the unauthenticated metrics listener (--metrics-bind), if any. */
  readonly metricsPort: number | undefined;
  /** Re-reads --token-file and --tokens-file now (SIGHUP); sessions whose token was removed are drained. */
  reloadTokens(): boolean;
  /** Graceful stop: refuse new work, let in-flight requests finish (bounded by drainTimeout), close clients. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Test seams of {@link startExitServer}, and what the entry point hands in besides the config. */
export interface ExitServerDeps {
  /** Resolves `--peers-dns` (default: getaddrinfo). */
  readonly resolve?: Resolver;
  /** The access log (one line per request); undefined = off. */
  readonly accessLog?: Logger;
  /** Export Node's process metrics too (once per process: the entry point sets it). */
  readonly processMetrics?: boolean;
}

/** Starts the public HTTP port and the control port (and the metrics listener when configured). */
export async function startExitServer(config: ExitServerConfig, logger: Logger, deps: ExitServerDeps = {}): Promise<ExitServer> {
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
  const limits: SessionLimits = {
    ...DEFAULT_LIMITS,
    maxFrameBytes: config.maxFrameBytes,
    maxHeaderBytes: config.maxHeaderBytes,
    streamWindow: config.streamWindow,
    maxStreams: config.maxStreamsPerClient,
    pingIntervalMs: config.pingInterval,
    idleTimeoutMs: config.idleTimeout,
    maxQueuedReplies: config.maxQueuedReplies,
  };
  const readPool = readPoolFor(config);
  const caps = new ConnectionCaps(config.maxConnections, config.maxConnectionsPerAddress);
  let sticky: StickyCookies<ClientConn> | undefined;
  if (config.stickyCookie !== undefined) {
    // config.stickySecret is resolved by libs/config from --sticky-secret-env/-file (never logged).
    const secret = config.stickySecret === undefined ? undefined : Buffer.from(config.stickySecret, 'utf8');
    sticky = new StickyCookies(config.stickyCookie, secret ?? StickyCookies.randomSecret());
    if (!secret) {
      logger.info(
        { cookie: config.stickyCookie },
        'sticky cookies are signed with a random secret of this process: they stop working across a restart and on other exit servers unless --sticky-secret-env/--sticky-secret-file gives every server the same one',
      );
    }
  }
  const router = new Router(config.balancePolicy, sticky);
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
  const publicHttp = new PublicHttp(
    router,
    {
      requestTimeoutMs: config.requestTimeout,
      trustProxy: config.trustProxy,
      maxHeaderBytes: config.maxHeaderBytes,
      headersTimeoutMs: config.headersTimeout,
      streamIdleTimeoutMs: config.streamIdleTimeout,
      sendTimeoutMs: config.sendTimeout,
      upstreamReadTimeoutMs: config.upstreamReadTimeout,
      keepAliveTimeoutMs: config.keepAliveTimeout,
      maxHeldBytes: config.maxHeldBytes,
      allowUnderscoreHeaders: config.allowUnderscoreHeaders,
      caps,
      readPool,
      balance: config.balance,
    },
    logger.child({ component: 'public' }),
    { metrics, accessLog: deps.accessLog },
  );
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
    router,
    logger.child({ component: 'control' }),
  );
  const control = new ControlPlane(
    router,
    {
      admission,
      authRateLimit,
      trustProxy: config.trustProxy,
      adminToken: config.adminToken,
      instanceId,
      limits,
      handshakeTimeoutMs: config.handshakeTimeout,
      keepAliveTimeoutMs: config.keepAliveTimeout,
      maxConnections: config.maxControlConnections,
      tls,
      statusExtra: () => ({
        publicRequestsInFlight: publicHttp.counters.inFlight,
        publicNoRoute: publicHttp.counters.noRoute,
        publicConnections: publicHttp.counters.connections,
        tcpPorts: tcpPorts.stats(),
        readPool: readPool?.stats(),
      }),
      tcpPorts,
      readPool,
      peers,
      readyTimeoutMs: config.readyTimeout,
      metrics,
    },
    logger.child({ component: 'control' }),
  );
  peers.on('change', (live: string[]) => control.advertisePeers(live));
  // Admin routes on the control port: Prometheus text, and the live status page.
  control.app.get('/metrics', { preHandler: control.requireAdmin }, async (_req, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  registerUi(control.app, {
    instanceId,
    adminToken: () => config.adminToken,
    state: () => ({ clients: [...router.clients].map((c) => c.toStatus()), rates: metrics.rates.points() }),
    secure: tls !== undefined,
    onRefused: (reason) => metrics.authFailure(reason),
  });

  // Half-open: a client that ends its side after a request still gets the response.
  const server = createServer(
    { allowHalfOpen: true, highWaterMark: SINK_SOCKET_HIGH_WATER_MARK, noDelay: true },
    publicHttp.handleConnection,
  );

  await tcpPorts.start();
  await control.app.listen({ port: config.controlPort, host: config.bind });
  const controlPort = (control.app.server.address() as AddressInfo).port;
  let port: number;
  let metricsServer: MetricsServer | undefined;
  try {
    port = await listen(server, config.port, config.bind);
    if (config.metricsBind) metricsServer = await startMetricsServer(metrics.registry, config.metricsBind);
  } catch (err) {
    server.close();
    await control.app.close();
    await tcpPorts.close();
    throw err;
  }
  tokenFiles.watch();
  const metricsPort = metricsServer?.port;
  logger.info(
    { port, controlPort, metricsPort, instanceId, bind: config.bind, balance: config.balance, balancePolicy: config.balancePolicy },
    'exit server listening',
  );
  peers.start();
  if (config.adminToken === undefined) {
    logger.warn({ adminTokenEnv: config.adminTokenEnv }, 'no admin token: /status and other admin endpoints answer 403 until one is set');
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    controlPort,
    instanceId,
    router,
    peers,
    tcpPorts,
    control,
    metrics,
    metricsPort,
    reloadTokens: () => tokenFiles.reload('reload requested'),
    close() {
      closing ??= (async () => {
        // Unhealthy first (/healthz, /readyz, new sessions refused; peers drop this server and
        // tell the clients), and only after the drain delay stop taking public connections.
        control.draining = true;
        tokenFiles.close();
        if (config.drainDelay > 0) await new Promise((r) => setTimeout(r, config.drainDelay));
        server.close();
        publicHttp.drain();
        const deadline = Date.now() + config.drainTimeout;
        // Connections accepted just before the listener closed get a moment to send their request.
        const freshUntil = Math.min(deadline, Date.now() + FRESH_CONNECTION_GRACE_MS);
        const busy = () => publicHttp.counters.inFlight > 0 || (publicHttp.freshConnections > 0 && Date.now() < freshUntil);
        while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
        publicHttp.destroyAll();
        await control.closeSessions(Math.max(0, deadline - Date.now()));
        await tcpPorts.close();
        await peers.stop();
        await control.app.close();
        await metricsServer?.close();
        logger.info({}, 'exit server stopped');
      })();
      return closing;
    },
  };
}
