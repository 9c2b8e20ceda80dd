/** What {@link isReady} decides on. */
export interface ReadinessFacts {
  /** The server is shutting down. */
  readonly draining: boolean;
  /** Distinct edge clients attached here. */
  readonly clients: number;
  /** Most distinct clients any live peer holds. */
  readonly maxPeerClients: number;
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
 */
export function isReady(f: ReadinessFacts): boolean {
  if (f.draining) return false;
  return f.clients >= f.maxPeerClients || f.sinceStartMs >= f.readyTimeoutMs;
}
