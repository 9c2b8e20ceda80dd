import { createHash, timingSafeEqual } from 'node:crypto';

/** The `Authorization` scheme a token travels in. */
const BEARER_PREFIX = 'Bearer ';

/**
 * Checks an `Authorization` header against the token in constant time. Both sides are hashed
 * first so neither the length nor the content of the token leaks through timing.
 */
export function checkBearer(header: string | undefined, token: string): boolean {
  const presented = typeof header === 'string' && header.startsWith(BEARER_PREFIX) ? header.slice(BEARER_PREFIX.length) : '';
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(token, 'utf8').digest();
  // Evaluate both conditions so an empty presented token takes the same path.
  return timingSafeEqual(a, b) && presented.length > 0;
}

/** The `Authorization` header value for a token. */
export function bearer(token: string): string {
  return `${BEARER_PREFIX}${token}`;
}
