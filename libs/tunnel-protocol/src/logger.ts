/** Logging method: structured fields first, then the message (pino's signature). */
export type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** The subset of pino the protocol uses; pass a pino logger (or `silentLogger`). */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** Logger with `bindings` added to every line (e.g. `{ session: 3 }`). */
  child(bindings: Record<string, unknown>): Logger;
  /** Current level name; used to skip building trace fields on hot paths. */
  level?: string;
}

const noop: LogFn = () => {};

/** A logger that drops everything. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
  level: 'silent',
};
