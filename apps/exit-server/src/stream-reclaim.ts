import { LimitError, type OpenHead, type Session, type TunnelStream } from '@tunnel/tunnel-protocol';

/**
 * Opens a stream on `session`; when the client's stream limit is reached, first takes back the
 * streams idle kept-alive connections hold (`reclaim` returns how many it freed) and tries once
 * more, so connections that sit idle cannot lock a client for everyone. Throws as
 * `Session.openStream` does when nothing could be freed.
 */
export function openReclaiming(session: Session, head: OpenHead, reclaim: () => number): TunnelStream {
  try {
    return session.openStream(head);
  } catch (err) {
    if (!(err instanceof LimitError && err.code === 'TUN_ERR_TOO_MANY_STREAMS') || reclaim() === 0) throw err;
    return session.openStream(head);
  }
}
