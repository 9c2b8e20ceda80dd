import { createServer, type AddressInfo, type Server } from 'node:net';
import type { ExitServerConfig } from '@tunnel/config';
import { startMetricsServer, type MetricsServer } from '@tunnel/observability';
import type { Logger } from '@tunnel/tunnel-protocol';
import { SINK_SOCKET_HIGH_WATER_MARK } from '@tunnel/tunnel-io';
import type { ControlPlane } from './control.ts';
import type { PeerDiscovery } from './peers/peer-discovery.ts';
import type { ExitMetrics } from './metrics/exit-metrics.ts';
import type { Router } from './router.ts';
import type { TcpPorts } from './tcp-ports.ts';
import { buildServerParts, type ExitServerDeps, type ServerParts } from './server-parts.ts';
import { drainExitServer } from './server-drain.ts';

export type { ExitServerDeps } from './server-parts.ts';

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

/** The bound listeners of a started server. */
interface Listening {
  /** Bound public HTTP port. */
  readonly port: number;
  /** Bound control port. */
  readonly controlPort: number;
  /** The metrics listener (--metrics-bind), if configured. */
  readonly metricsServer: MetricsServer | undefined;
}

/** Opens the TCP ports, the control port, the public port and the metrics listener; on a failure closes what had opened. */
async function listenAll(config: ExitServerConfig, parts: ServerParts, server: Server): Promise<Listening> {
  const { control, tcpPorts, metrics } = parts;
  await tcpPorts.start();
  await control.app.listen({ port: config.controlPort, host: config.bind });
  const controlPort = (control.app.server.address() as AddressInfo).port;
  try {
    const port = await listen(server, config.port, config.bind);
    const metricsServer = config.metricsBind ? await startMetricsServer(metrics.registry, config.metricsBind) : undefined;
    return { port, controlPort, metricsServer };
  } catch (err) {
    server.close();
    await control.app.close();
    await tcpPorts.close();
    throw err;
  }
}

/** Starts the public HTTP port and the control port (and the metrics listener when configured). */
export async function startExitServer(config: ExitServerConfig, logger: Logger, deps: ExitServerDeps = {}): Promise<ExitServer> {
  const parts = buildServerParts(config, logger, deps);
  const { instanceId, router, peers, tcpPorts, control, metrics, tokenFiles } = parts;
  // Half-open: a client that ends its side after a request still gets the response.
  const server = createServer(
    { allowHalfOpen: true, highWaterMark: SINK_SOCKET_HIGH_WATER_MARK, noDelay: true },
    parts.publicHttp.handleConnection,
  );
  const { port, controlPort, metricsServer } = await listenAll(config, parts, server);
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
      closing ??= drainExitServer({ ...parts, server, metricsServer }, config, logger);
      return closing;
    },
  };
}
