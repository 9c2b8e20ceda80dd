import { Duration } from 'aws-cdk-lib';

/**
 * How much longer the exit server keeps an idle connection than the load balancer does. AWS's
 * rule for ALB targets: the target's keep-alive must be longer than the ALB's idle timeout, or
 * the ALB sends a request into a connection the target is closing at that moment, and the
 * client gets a 502. The margin covers the ALB's timer and ours not starting at the same instant.
 */
export const KEEP_ALIVE_MARGIN = Duration.seconds(5);

/**
 * The exit server's keep-alive (`TUNNEL_KEEP_ALIVE_TIMEOUT`) for a given ALB idle timeout: that
 * timeout plus {@link KEEP_ALIVE_MARGIN}. The ALB idle timeout stays long (default 1 h) rather
 * than the exit server's keep-alive short, because the same ALB carries the edge clients'
 * WebSockets and the users' own long-lived connections (WebSockets, SSE) to their apps.
 */
export function exitServerKeepAlive(albIdleTimeout: Duration): Duration {
  return Duration.seconds(albIdleTimeout.toSeconds() + KEEP_ALIVE_MARGIN.toSeconds());
}
