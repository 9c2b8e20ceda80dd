import type { Socket } from 'node:net';
import { stripV4Mapped, type Logger } from '@tunnel/tunnel-protocol';
import type { ConnectionCaps } from './connection-caps.ts';
import { plainReply } from './plain-reply.ts';

/**
 * Admits a just-accepted public HTTP connection under `caps`, or answers 503 and closes it.
 * Behind a trusted proxy (`trustProxy`) every connection comes from the proxy, so only the
 * total cap applies. Returns the release function to call at close, or undefined when refused.
 */
export function admit(caps: ConnectionCaps | undefined, socket: Socket, trustProxy: boolean, log: Logger): (() => void) | undefined {
  if (!caps) return () => {};
  const address = trustProxy ? undefined : stripV4Mapped(socket.remoteAddress ?? '');
  const verdict = caps.admit(address);
  if (typeof verdict === 'function') return verdict;
  log.warn(
    { remote: socket.remoteAddress, code: 'TUN_ERR_TOO_MANY_CONNECTIONS', cap: verdict },
    'public connection refused: connection cap reached',
  );
  socket.on('error', () => socket.destroy());
  socket.end(
    plainReply(503, verdict === 'total' ? 'too many connections\n' : 'too many connections from your address\n', ['Retry-After: 1']),
  );
  return undefined;
}
