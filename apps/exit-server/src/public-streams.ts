import type { Session } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import type { Binding } from './public-binding.ts';

/**
 * Most tunnel streams one public connection keeps. Each holds a connection to an upstream on
 * its client, so without a cap one long-lived connection (a load balancer's) would in time hold
 * one on every client of a big default pool; past it, the least recently used idle one goes.
 */
export const MAX_STREAMS_PER_CONNECTION = 16;

/**
 * The tunnel streams one public connection holds: at most one per client, each carrying one
 * upstream connection, and reused by every later request that goes to that client. So with
 * per-request balancing, warmed-up keep-alive traffic opens no stream per request.
 *
 * `active` is the binding the latest request went to: pipelined requests and request bodies
 * follow it, responses are read from it, and only it can owe responses (a request moves to
 * another binding only once `active` is idle), which is what keeps HTTP/1.1 order.
 */
export class PublicStreams {
  /** Where the latest request went; undefined before the first and after it was let go. */
  active: Binding | undefined;
  /** Bindings by client. */
  private readonly byClient = new Map<ClientConn, Binding>();
  /** Uses so far: each binding's `usedAt` is its last, which orders them for {@link leastRecentIdle}. */
  private uses = 0;

  /** How many streams are held. */
  get size(): number {
    return this.byClient.size;
  }

  /**
   * Makes held binding `b` active and most recently used. (A use stamp rather than re-inserting
   * into the Map: this runs per request, the LRU scan only when making room.)
   */
  use(b: Binding): Binding {
    b.reuse();
    b.usedAt = ++this.uses;
    this.active = b;
    return b;
  }

  /** The binding held on `client`, without using it. */
  get(client: ClientConn): Binding | undefined {
    return this.byClient.get(client);
  }

  /** Holds a new binding (replacing none: the caller let go of the client's old one) and makes it active. */
  add(b: Binding): void {
    this.byClient.set(b.client, b);
    this.use(b);
  }

  /** Forgets `b`; false if it was not held. */
  delete(b: Binding): boolean {
    if (this.active === b) this.active = undefined;
    if (this.byClient.get(b.client) !== b) return false;
    this.byClient.delete(b.client);
    return true;
  }

  /** True if `b` is held. */
  holds(b: Binding): boolean {
    return this.byClient.get(b.client) === b;
  }

  /** The least recently used idle binding other than the active one, to make room. */
  leastRecentIdle(): Binding | undefined {
    let lru: Binding | undefined;
    for (const b of this.byClient.values()) if (b !== this.active && b.idle && (!lru || b.usedAt < lru.usedAt)) lru = b;
    return lru;
  }

  /** The binding held on a client's session, if any. */
  onSession(session: Session): Binding | undefined {
    for (const b of this.byClient.values()) if (b.client.session === session) return b;
    return undefined;
  }

  /** Every held binding, live: for callers that let go of none while iterating. */
  held(): IterableIterator<Binding> {
    return this.byClient.values();
  }

  /** Every held binding (a copy: callers let go of them while iterating). */
  all(): Binding[] {
    return [...this.byClient.values()];
  }
}
