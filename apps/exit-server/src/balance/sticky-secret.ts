import { readFileSync } from 'node:fs';
import { ConfigError } from '@tunnel/config';
import { STICKY_SECRET_MIN_BYTES } from './sticky.ts';

/** Where the sticky-cookie secret comes from (the two options of the exit server's schema). */
export interface StickySecretSource {
  /** Environment variable holding it. */
  readonly stickySecretEnv?: string;
  /** File holding it. */
  readonly stickySecretFile?: string;
}

/**
 * Reads the secret that signs sticky cookies (entry point only: it reads the environment), or
 * undefined when none is configured and a random one will do. Throws {@link ConfigError} when
 * the configured source is unset, unreadable or shorter than {@link STICKY_SECRET_MIN_BYTES};
 * messages never contain the secret.
 */
export function readStickySecret(
  source: StickySecretSource,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Buffer | undefined {
  let text: string;
  let flag: string;
  if (source.stickySecretFile !== undefined) {
    flag = '--sticky-secret-file';
    try {
      text = readFile(source.stickySecretFile).trim();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError('TUN_ERR_CONFIG_INVALID_VALUE', flag, `${flag} ${source.stickySecretFile}: cannot read (${reason})`);
    }
  } else if (source.stickySecretEnv !== undefined) {
    flag = '--sticky-secret-env';
    const value = env[source.stickySecretEnv];
    if (value === undefined) throw new ConfigError('TUN_ERR_CONFIG_INVALID_VALUE', flag, `${flag}: env ${source.stickySecretEnv} is not set`);
    text = value.trim();
  } else {
    return undefined;
  }
  const secret = Buffer.from(text, 'utf8');
  if (secret.length < STICKY_SECRET_MIN_BYTES) {
    throw new ConfigError(
      'TUN_ERR_CONFIG_INVALID_VALUE',
      flag,
      `${flag}: the sticky-cookie secret has ${secret.length} bytes, it needs ${STICKY_SECRET_MIN_BYTES} or more (e.g. openssl rand -base64 32)`,
    );
  }
  return secret;
}
