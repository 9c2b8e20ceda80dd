import type { Logger } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import type { ExitMetrics } from './metrics/exit-metrics.ts';

/** The warning logged when a client turns unresponsive (operators and e2e tests key on it). */
export const UNRESPONSIVE_LOG = 'edge client unresponsive: new requests go to other clients of its hosts';

/** Logged when an unresponsive client is heard from again. */
export const RESPONSIVE_AGAIN_LOG = 'edge client answers again: back in rotation';

/**
 * Follows what the session learns of its client's health: GOAWAY (it drains), and suspicion (it
 * owed us an answer and then left a probe PING unanswered, see Responsiveness in the protocol
 * core): `client.unresponsive` follows it, for the router and /status, with one log line and a
 * metric per transition. The session itself is still closed only by --idle-timeout.
 */
export function watchClientHealth(client: ClientConn, log: Logger, metrics: ExitMetrics | undefined): void {
  const session = client.session;
  session.on('goaway', () => log.info({}, 'edge client is draining: out of rotation'));
  session.on('responsive', (ok: boolean, owedMs: number) => {
    client.unresponsive = !ok;
    if (ok) {
      log.info({ owedMs }, RESPONSIVE_AGAIN_LOG);
      return;
    }
    metrics?.clientUnresponsive();
    log.warn({ owedMs, inFlight: client.inFlight, unresponsiveAfterMs: session.limits.unresponsiveAfterMs }, UNRESPONSIVE_LOG);
  });
}
