import { ConfigError, HelpRequested } from './errors.ts';
import { renderHelp } from './help.ts';
import { loadConfig } from './load.ts';
import type { ConfigOf, Schema } from './schema.ts';

/** Minimal writable stream, so tests can capture output in a string. */
export interface TextSink {
  /** Writes a chunk of text. */
  write(chunk: string): unknown;
}

/** Process hooks for {@link loadConfigOrExit}; each defaults to the real process. */
export interface ExitIo {
  /** Receives help text. Default `process.stdout`. */
  readonly stdout?: TextSink;
  /** Receives error messages. Default `process.stderr`. */
  readonly stderr?: TextSink;
  /** Ends the process with a status. Default `process.exit`. Tests may throw instead. */
  readonly exit?: (code: number) => never;
  /** Reads a UTF-8 file; see `LoadOptions.readFile`. */
  readonly readFile?: (path: string) => string;
}

/**
 * `main.ts` entry point: loads the config, or prints help (exit 0), or prints
 * `<app>: <message>` and a pointer to `--help` (exit 2). Other errors propagate
 * because they are bugs, not operator mistakes.
 */
export function loadConfigOrExit<S extends Schema>(
  schema: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ExitIo = {},
): ConfigOf<S> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const exit = io.exit ?? ((code: number) => process.exit(code));
  try {
    return loadConfig(schema, { argv, env, readFile: io.readFile });
  } catch (err) {
    if (err instanceof HelpRequested) {
      stdout.write(renderHelp(schema));
      return exit(0);
    }
    if (err instanceof ConfigError) {
      stderr.write(`${schema.name}: ${err.message}\nRun '${schema.name} --help' for usage.\n`);
      return exit(err.exitCode);
    }
    throw err;
  }
}
