import type { FastifyInstance } from 'fastify';

/** Options for {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /**
   * How long in-flight requests may take to finish after a signal before their connections are
   * cut (long `/sse` and `/slow` requests would otherwise hold the process for minutes).
   */
  readonly graceMs: number;
}

/**
 * On the first SIGTERM or SIGINT, stops accepting connections, lets in-flight requests finish
 * (up to `graceMs`), then exits 0. A second signal exits immediately with status 1.
 */
export function closeOnSignals(app: FastifyInstance, { graceMs }: CloseOnSignalsOptions): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    closing = true;
    app.log.info({ signal, graceMs }, 'shutting down');
    const deadline = setTimeout(() => {
      app.log.warn('grace period over: closing remaining connections');
      app.server.closeAllConnections();
    }, graceMs);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
