import type { Logger } from '@tunnel/tunnel-protocol';
import type { DialRefusal } from './dial.ts';

/** Characters of a refusal's body logged. */
const LOGGED_REFUSAL_BODY_CHARS = 300;

/** Says in the log why an exit server refused the handshake, and what to check. */
export function logRefusal(log: Logger, res: DialRefusal): void {
  if (res.status === 401) {
    log.error(
      { status: res.status, code: res.code },
      'exit server refused the token (TUN_ERR_AUTH): check --token-env/--token-file on both ends; retrying with backoff in case the secret is being rotated',
    );
  } else if (res.code === 'TUN_ERR_DUPLICATE_SESSION') {
    // Dialing through a load balancer can land on a server this process already serves.
    log.info({ status: res.status, code: res.code }, 'already attached to this exit server: dialing again');
  } else {
    log.error(
      { status: res.status, code: res.code, message: res.body.trim().slice(0, LOGGED_REFUSAL_BODY_CHARS) },
      'exit server refused the connection',
    );
  }
}
