import { CodedError } from '@tunnel/errors';

/**
 * Stable machine-readable identifiers for configuration failures, each with what it means. Tests and
 * operators match on the codes rather than on message text, which may be reworded. Every code has a
 * row in docs/ERRORS.md (Configuration errors), checked by errors.test.ts.
 */
export const CONFIG_ERROR_CODES = {
  TUN_ERR_CONFIG_UNKNOWN_FLAG: 'A `--flag` that the schema does not define.',
  TUN_ERR_CONFIG_UNKNOWN_KEY: 'A config-file key that the schema does not define.',
  TUN_ERR_CONFIG_UNEXPECTED_ARGUMENT: 'A positional argument; no app takes any.',
  TUN_ERR_CONFIG_MISSING_VALUE: 'A value-taking flag given last or followed by another flag.',
  TUN_ERR_CONFIG_DUPLICATE_FLAG: 'A non-list flag given more than once.',
  TUN_ERR_CONFIG_INVALID_VALUE: 'A value that does not parse or is out of range.',
  TUN_ERR_CONFIG_REQUIRED: 'A required option with no value from any source.',
  TUN_ERR_CONFIG_CONFLICT: 'Options that are individually valid but inconsistent together.',
  TUN_ERR_CONFIG_FILE: 'The config file cannot be read or parsed.',
  TUN_ERR_CONFIG_TOKEN_MISSING: 'No usable auth token from the token file or token env var.',
  TUN_ERR_CONFIG_WEAK_TOKEN: 'A token shorter than 32 characters without `--allow-weak-token`.',
  TUN_ERR_CONFIG_INSECURE_URL: 'A ws:// URL to a non-loopback host without `--insecure`.',
  TUN_ERR_CONFIG_TOKEN_ON_COMMAND_LINE: '`--token` was used; secrets on argv leak through `ps` and shell history.',
} as const;

/** A stable configuration error code, see {@link CONFIG_ERROR_CODES}. */
export type ConfigErrorCode = keyof typeof CONFIG_ERROR_CODES;

/**
 * Any configuration problem the operator must fix (a {@link CodedError}, `code` one of
 * {@link CONFIG_ERROR_CODES}). Messages name the flag and where the bad value came from, and
 * never contain secret values.
 */
export class ConfigError extends CodedError<ConfigErrorCode> {
  /** Flag the problem is about, e.g. `--port`; undefined when no single flag is at fault. */
  readonly option: string | undefined;
  /** Process exit status to use: 2 is the conventional "usage error". */
  readonly exitCode = 2 as const;

  constructor(code: ConfigErrorCode, option: string | undefined, message: string) {
    super(code, message);
    this.option = option;
  }
}

/**
 * Thrown by `loadConfig` when `--help`/`-h` is present, so that help works even
 * when required options are missing. Not a failure (exit status 0, no code): control flow, so not
 * a CodedError.
 */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  /** Process exit status to use. */
  readonly exitCode = 0 as const;

  constructor() {
    super('help requested');
  }
}
