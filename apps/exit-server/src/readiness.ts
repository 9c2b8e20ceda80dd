/** What {@link isReady} decides on. */
export interface ReadinessFacts {
  /** The server is shutting down. */
  readonly draining: boolean;
  /** Distinct edge clients attached here. */
  readonly clients: number;
  /** Most distinct clients any live peer holds. */
  readonly maxPeerClients: number;
  /**
   * Every peer has answered or stayed silent for --peer-timeout (or there is none). Before
   * that, `maxPeerClients` may be 0 only because nothing is known yet.
   */
  readonly peersKnown: boolean;
  /** Time since this server started, ms. */
  readonly sinceStartMs: number;
  /** Longest wait for clients before answering ready anyway, ms. */
  readonly readyTimeoutMs: number;
}

/**
 * Whether public traffic may be sent here (`/readyz`). A new server behind a load balancer would
 * otherwise answer 503 "no tunnel" until the edge clients found it; it is ready once it holds as
 * many clients as its busiest peer (alone, or when no peer has clients, at once), and at the
 * latest after `readyTimeoutMs` (a client that cannot reach it must not keep it out forever).
 * Until each peer has answered once (or stayed silent for --peer-timeout) it does not know how
 * busy they are: a replacement started in a rolling restart was health-checked in that gap,
 * taken into rotation with no client attached, and answered 503 for a few hundred ms; on a
 * loaded host a first probe that timed out counted as an answer and did the same.
 */
export function isReady(f: ReadinessFacts): boolean {
  if (f.draining) return false;
  if (f.sinceStartMs >= f.readyTimeoutMs) return true;
  return f.peersKnown && f.clients >= f.maxPeerClients;
}
