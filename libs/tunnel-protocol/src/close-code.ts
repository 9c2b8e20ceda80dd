import type { TunnelError } from './errors.ts';

/** WebSocket close codes a session closes its transport with (RFC 6455 section 7.4.1). */
export const CloseCode = {
  /** Closed on purpose. */
  NORMAL: 1000,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** The link is dead (idle timeout, a peer that reads nothing), so no close handshake can complete. */
  ABNORMAL: 1006,
} as const;

/** The close code for a session ending with `err` (none: a normal close). */
export function closeCodeFor(err: TunnelError | undefined): number {
  if (!err) return CloseCode.NORMAL;
  return err.code === 'TUN_ERR_IDLE_TIMEOUT' || err.code === 'TUN_ERR_PEER_NOT_READING' ? CloseCode.ABNORMAL : CloseCode.PROTOCOL_ERROR;
}
