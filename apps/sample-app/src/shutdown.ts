import type { FastifyInstance } from 'fastify';
import { drainOnSignals } from '@tunnel/config';

/** Options for {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /**
   * How long in-flight requests may take to finish after a signal before their connections are
   * cut (long `/sse` and `/slow` requests would otherwise hold the process for minutes).
   */
  readonly graceMs: number;
}

/**
 * Drains like the tunnel apps ({@link drainOnSignals}): on the first SIGTERM or SIGINT, stops
 * accepting connections, lets in-flight requests finish (up to `graceMs`), then exits 0. A
 * second signal exits immediately with status 1.
 */
export function closeOnSignals(app: FastifyInstance, { graceMs }: CloseOnSignalsOptions): void {
  drainOnSignals({
    log: app.log,
    fields: { graceMs },
    drain: () => {
      const deadline = setTimeout(() => {
        app.log.warn('grace period over: closing remaining connections');
        app.server.closeAllConnections();
      }, graceMs);
      deadline.unref();
      return app.close();
    },
  });
}
