import type { Server } from 'node:net';
import type { ExitServerConfig } from '@tunnel/config';
import type { MetricsServer } from '@tunnel/observability';
import type { Logger } from '@tunnel/tunnel-protocol';
import type { ServerParts } from './server-parts.ts';

/**
 * How long a drain waits for the first request of connections accepted just before the public
 * port closed, ms: a load balancer may have sent them before it saw this server unhealthy.
 */
const FRESH_CONNECTION_GRACE_MS = 1000;

/** How often a drain looks whether the requests in flight are done, ms. */
const DRAIN_POLL_MS = 20;

/** What a drain stops: the parts, the public listener and the metrics listener. */
export interface Draining extends Pick<ServerParts, 'control' | 'tokenFiles' | 'publicHttp' | 'tcpPorts' | 'peers'> {
  /** The public HTTP listener. */
  readonly server: Server;
  /** The unauthenticated metrics listener (--metrics-bind), if any. */
  readonly metricsServer: MetricsServer | undefined;
}

/**
 * Graceful stop: unhealthy first (/healthz, /readyz, new sessions refused; peers drop this
 * server and tell the clients), and only after --drain-delay stop taking public connections;
 * then let in-flight requests finish (bounded by --drain-timeout) and close everything.
 */
export async function drainExitServer(
  d: Draining,
  config: Pick<ExitServerConfig, 'drainDelay' | 'drainTimeout'>,
  logger: Logger,
): Promise<void> {
  const { control, publicHttp } = d;
  control.draining = true;
  d.tokenFiles.close();
  if (config.drainDelay > 0) await new Promise((r) => setTimeout(r, config.drainDelay));
  d.server.close();
  publicHttp.drain();
  const deadline = Date.now() + config.drainTimeout;
  // Connections accepted just before the listener closed get a moment to send their request.
  const freshUntil = Math.min(deadline, Date.now() + FRESH_CONNECTION_GRACE_MS);
  const busy = () => publicHttp.counters.inFlight > 0 || (publicHttp.freshConnections > 0 && Date.now() < freshUntil);
  while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
  publicHttp.destroyAll();
  await control.closeSessions(Math.max(0, deadline - Date.now()));
  await d.tcpPorts.close();
  await d.peers.stop();
  await control.app.close();
  await d.metricsServer?.close();
  logger.info({}, 'exit server stopped');
}
