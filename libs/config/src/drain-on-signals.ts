// Every app ends the same way on SIGTERM (ECS, docker stop) and SIGINT (Ctrl-C): drain, then exit.
// It lives beside loadConfigOrExit because this lib is the one every app's entry point uses.

/** The log lines {@link drainOnSignals} writes (a pino logger fits). */
export interface DrainLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** What {@link drainOnSignals} needs. */
export interface DrainOnSignalsOptions {
  /** Stops the app gracefully (in-flight work finishes, logs are flushed); resolves once it may exit. */
  readonly drain: (signal: NodeJS.Signals) => Promise<unknown>;
  /** Where the steps are logged. */
  readonly log: DrainLog;
  /** Fields added to the `draining` line (e.g. the grace period). */
  readonly fields?: object;
  /** Ends the process with a status; default `process.exit`. Tests pass their own. */
  readonly exit?: (code: number) => void;
  /** Where the signals come from; default `process`. Tests pass an emitter. */
  readonly signals?: { on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown };
}

/** The signals that ask an app to stop. */
export const DRAIN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * On the first SIGTERM or SIGINT: logs `draining`, runs `drain`, exits 0 once it resolves (1 if it
 * rejects). A second signal exits 1 at once, for an operator who will not wait.
 */
export function drainOnSignals(opts: DrainOnSignalsOptions): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let draining = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (draining) {
      opts.log.warn({ signal }, 'second signal: exiting without waiting');
      exit(1);
      return;
    }
    draining = true;
    opts.log.info({ signal, ...opts.fields }, 'draining');
    opts.drain(signal).then(
      () => exit(0),
      (err: unknown) => {
        opts.log.error({ err }, 'error while draining');
        exit(1);
      },
    );
  };
  for (const signal of DRAIN_SIGNALS) (opts.signals ?? process).on(signal, onSignal);
}
