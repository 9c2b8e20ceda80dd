import { randomBytes } from 'node:crypto';

/** A random tunnel token for one test file or topology: 32 base64url characters (24 random bytes). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}
