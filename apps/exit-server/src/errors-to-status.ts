import { LimitError, ResetCode, StreamResetError, TunnelError } from '@tunnel/tunnel-protocol';

/** HTTP status and short text for a stream that failed before a response head arrived. */
export interface FailureReply {
  /** Status sent to the public client. */
  readonly status: number;
  /** Plain-text body (one line). */
  readonly text: string;
}

/**
 * Maps a tunnel failure to the public answer: an unreachable upstream or a vanished client is
 * 502, a timeout 504, a refused stream (client full or draining) 503.
 */
export function failureReply(err: unknown): FailureReply {
  if (err instanceof StreamResetError) {
    switch (err.reason) {
      case ResetCode.UPSTREAM_TIMEOUT:
        return { status: 504, text: 'upstream timed out behind the tunnel' };
      case ResetCode.REFUSED:
        return { status: 503, text: 'tunnel client is busy or draining' };
      default:
        return { status: 502, text: 'upstream failed behind the tunnel' };
    }
  }
  if (err instanceof LimitError) return { status: 503, text: 'tunnel client is at its stream limit' };
  if (err instanceof TunnelError && err.code === 'TUN_ERR_GOING_AWAY') return { status: 503, text: 'tunnel client is draining' };
  return { status: 502, text: 'tunnel connection failed' };
}
