import { randomBytes } from 'node:crypto';

/**
 * Random id of this process, sent in every hello (see the hello's `nonce`): the exit server
 * refuses a second live session from the same process (409 TUN_ERR_DUPLICATE_SESSION) and lets a
 * new process (a restart) replace the old one's session at once. One per process, never persisted.
 */
export const PROCESS_NONCE = randomBytes(16).toString('base64url');
