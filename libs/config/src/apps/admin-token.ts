import { ConfigError } from '../errors.ts';
import { parseEnvName, type Options, type SecretIo } from '../schema.ts';

/** Default name of the env var holding the exit server's admin token. */
export const DEFAULT_ADMIN_TOKEN_ENV = 'TUNNEL_ADMIN_TOKEN';

/** Options of the admin token, which opens /status and every other admin endpoint. */
export const ADMIN_TOKEN_OPTIONS = {
  /** Name of the env var the admin token is read from (unless adminTokenFile is set). */
  adminTokenEnv: {
    kind: 'custom',
    placeholder: 'NAME',
    expected: 'an environment variable name (letters, digits, underscores)',
    parse: parseEnvName,
    default: DEFAULT_ADMIN_TOKEN_ENV,
    description: 'name of the environment variable holding the admin token for /status and other admin endpoints (unset: they answer 403)',
  },
  /** Path the admin token is read from, if given. */
  adminTokenFile: {
    kind: 'string',
    placeholder: 'path',
    description: 'read the admin token from this file (whitespace trimmed); takes precedence over --admin-token-env',
  },
} as const satisfies Options;

/** The resolved admin secret, added to the config non-enumerable. */
export interface AdminTokenField {
  /** Bearer token for admin endpoints; undefined when none is configured (they answer 403). */
  readonly adminToken: string | undefined;
}

/**
 * Reads the admin token: from `adminTokenFile` when given (it must exist and be non-empty), else
 * from the env var named by `adminTokenEnv` (unset or blank: no admin token). Refuses a value
 * equal to a client token, since a client would then open the admin endpoints.
 */
export function readAdminToken(
  config: { readonly adminTokenEnv: string; readonly adminTokenFile: string | undefined },
  clientTokens: readonly string[],
  io: SecretIo,
): string | undefined {
  let token: string | undefined;
  if (config.adminTokenFile !== undefined) {
    try {
      token = io.readFile(config.adminTokenFile).trim();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(
        'TUN_ERR_CONFIG_TOKEN_MISSING',
        '--admin-token-file',
        `--admin-token-file ${config.adminTokenFile}: cannot read (${reason})`,
      );
    }
    if (token === '')
      throw new ConfigError(
        'TUN_ERR_CONFIG_TOKEN_MISSING',
        '--admin-token-file',
        `--admin-token-file ${config.adminTokenFile}: file is empty`,
      );
  } else {
    token = io.env[config.adminTokenEnv]?.trim() || undefined;
  }
  if (token !== undefined && clientTokens.includes(token)) {
    throw new ConfigError(
      'TUN_ERR_CONFIG_CONFLICT',
      config.adminTokenFile !== undefined ? '--admin-token-file' : '--admin-token-env',
      'the admin token equals a client token: every edge client could read /status; generate a distinct admin token',
    );
  }
  return token;
}
