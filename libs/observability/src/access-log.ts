import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

/** `--access-log`: `off`, `stdout`, or a file path (appended to). */
export type AccessLogTarget = string;

/** Field names that never reach a log line with their value (defence in depth: nothing logs them on purpose). */
export const REDACTED_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'token',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Options of a log destination. */
export interface LogOptions {
  /** The `app` field of every line. */
  readonly app: string;
  /** Level; default info. */
  readonly level?: string;
  /** True when stdout is a terminal: lines are then printed human-readable instead of JSON. */
  readonly tty: boolean;
}

/** A pino logger on stdout: JSON lines, or human-readable ones on a terminal. */
export function stdoutLogger(opts: LogOptions): PinoLogger {
  const base = { level: opts.level ?? 'info', base: { app: opts.app }, redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } };
  if (!opts.tty) return pino(base);
  // pino-pretty as a stream in this thread, not a transport: transports load workers from
  // node_modules, which a bundled app does not ship.
  return pino(base, pretty({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/**
 * The access log for `--access-log`: undefined for `off`, the terminal-aware stdout logger for
 * `stdout`, else a JSON-lines file (created with its directory, appended to). The file is
 * opened here, so a path that cannot be written fails at startup; lines are written at once,
 * as pino writes stdout, so none is lost when the process dies.
 */
export function accessLogger(target: AccessLogTarget, opts: LogOptions): PinoLogger | undefined {
  if (target === 'off') return undefined;
  if (target === 'stdout') return stdoutLogger(opts).child({ log: 'access' });
  mkdirSync(dirname(target), { recursive: true });
  const dest = pino.destination({ fd: openSync(target, 'a'), sync: true });
  return pino(
    { level: 'info', base: { app: opts.app, log: 'access' }, redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' } },
    dest,
  );
}
