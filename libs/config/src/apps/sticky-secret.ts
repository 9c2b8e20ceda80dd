import { ConfigError } from '../errors.ts';
import type { SecretIo } from '../schema.ts';

/** Shortest secret accepted for signing sticky cookies, bytes (UTF-8). */
export const STICKY_SECRET_MIN_BYTES = 16;

/** The resolved sticky-cookie secret, added to the exit server's config non-enumerable. */
export interface StickySecretField {
  /** Secret that signs sticky cookies (UTF-8 text, trimmed); undefined: a random one per process. */
  readonly stickySecret: string | undefined;
}

/** Where the sticky-cookie secret comes from (the two options of the exit server's schema). */
export interface StickySecretSource {
  /** Environment variable holding it. */
  readonly stickySecretEnv?: string;
  /** File holding it. */
  readonly stickySecretFile?: string;
}

/**
 * Reads the secret that signs sticky cookies, or undefined when none is configured and a random
 * one will do. Throws {@link ConfigError} when the configured source is unset, unreadable or
 * shorter than {@link STICKY_SECRET_MIN_BYTES}; messages never contain the secret.
 */
export function readStickySecret(source: StickySecretSource, io: SecretIo): string | undefined {
  let text: string;
  let flag: string;
  if (source.stickySecretFile !== undefined) {
    flag = '--sticky-secret-file';
    try {
      text = io.readFile(source.stickySecretFile).trim();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError('TUN_ERR_CONFIG_INVALID_VALUE', flag, `${flag} ${source.stickySecretFile}: cannot read (${reason})`);
    }
  } else if (source.stickySecretEnv !== undefined) {
    flag = '--sticky-secret-env';
    const value = io.env[source.stickySecretEnv];
    if (value === undefined)
      throw new ConfigError('TUN_ERR_CONFIG_INVALID_VALUE', flag, `${flag}: env ${source.stickySecretEnv} is not set`);
    text = value.trim();
  } else {
    return undefined;
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes < STICKY_SECRET_MIN_BYTES) {
    throw new ConfigError(
      'TUN_ERR_CONFIG_INVALID_VALUE',
      flag,
      `${flag}: the sticky-cookie secret has ${bytes} bytes, it needs ${STICKY_SECRET_MIN_BYTES} or more (e.g. openssl rand -base64 32)`,
    );
  }
  return text;
}
