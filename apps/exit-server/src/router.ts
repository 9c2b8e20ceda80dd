import { findByParentDomain, wildcardDomain } from '@tunnel/tunnel-protocol';
import { Pool, type BalancePolicy } from './balance/pool.ts';
import type { StickyCookies } from './balance/sticky.ts';
import type { ClientConn } from './client-conn.ts';

/** A route a request can take now (at least one member not draining). */
const hasAvailable = (pool: Pool<ClientConn>): boolean => pool.hasAvailable;

/**
 * Routes a request's hostname to a connected client: exact hostname first, then the closest
 * `*.` wildcard, then clients that declared no hostname (default upstreams). Within each route
 * the policy picks (see {@link Pool}: weighted round-robin or least requests in flight);
 * draining clients are skipped, unresponsive ones too while the route has a responsive one; a
 * removed client is out of rotation at once. TCP ports are always weighted round-robin: a TCP
 * connection is one long request whose load nobody measures.
 */
export class Router {
  private readonly exact = new Map<string, Pool<ClientConn>>();
  private readonly wildcard = new Map<string, Pool<ClientConn>>();
  private readonly defaults: Pool<ClientConn>;
  private readonly ports = new Map<number, Pool<ClientConn>>();
  private readonly all = new Set<ClientConn>();
  /** Event-loop turns in which a request was picked for, counted for {@link pickInTurn}. */
  private turn = 0;
  /** The current turn's end is scheduled (it ends in the loop's check phase, after every socket read in it). */
  private turnEnding = false;
  private readonly endTurn = (): void => {
    this.turn++;
    this.turnEnding = false;
  };

  constructor(
    /** Policy of every HTTP route. */
    readonly policy: BalancePolicy = 'round-robin',
    /** Session affinity by cookie, when configured: it learns every client that connects. */
    readonly sticky?: StickyCookies<ClientConn>,
  ) {
    this.defaults = new Pool(policy);
  }

  /** Every connected client. */
  get clients(): ReadonlySet<ClientConn> {
    return this.all;
  }

  /** Adds a client to the pools it declared: hostnames (if it serves HTTP) and accepted TCP ports. */
  add(client: ClientConn): void {
    this.all.add(client);
    this.sticky?.add(client);
    for (const port of client.tcpPorts) {
      let pool = this.ports.get(port);
      if (!pool) this.ports.set(port, (pool = new Pool('round-robin')));
      pool.add(client);
    }
    // A TCP-only client has no HTTP upstream: it must not land in the default pool.
    if (!client.hello.capabilities.includes('http')) return;
    const names = client.hello.hostnames;
    if (names.length === 0) {
      this.defaults.add(client);
      return;
    }
    for (const name of names) {
      const domain = wildcardDomain(name);
      const map = domain === undefined ? this.exact : this.wildcard;
      const key = domain ?? name;
      let pool = map.get(key);
      if (!pool) map.set(key, (pool = new Pool(this.policy)));
      pool.add(client);
    }
  }

  /** Removes a client from every pool. */
  remove(client: ClientConn): void {
    if (!this.all.delete(client)) return;
    this.sticky?.remove(client);
    this.defaults.remove(client);
    const prune = <K>(map: Map<K, Pool<ClientConn>>) => {
      for (const [key, pool] of map) {
        pool.remove(client);
        if (pool.members.length === 0) map.delete(key);
      }
    };
    prune(this.exact);
    prune(this.wildcard);
    prune(this.ports);
  }

  /**
   * The route `host` (lower-case, no port) takes now: the most specific pool with an available
   * member, or undefined.
   */
  private route(host: string): Pool<ClientConn> | undefined {
    const exact = this.exact.get(host);
    if (exact?.hasAvailable) return exact;
    const wildcard = findByParentDomain(host, this.wildcard, hasAvailable);
    if (wildcard) return wildcard;
    return this.defaults.hasAvailable ? this.defaults : undefined;
  }

  /**
   * Picks the client for a request to `host` (lower-case, no port), or undefined if none serves
   * it. The first of `preferred` (a sticky cookie's clients) that is available and on the route
   * the host takes wins; otherwise the route's policy picks.
   */
  pick(host: string, preferred?: readonly ClientConn[]): ClientConn | undefined {
    return this.pickOn(host, preferred, undefined);
  }

  /**
   * {@link pick} for per-request balancing: the requests read in one event-loop turn are one
   * round-robin pick, charged per request (see Pool.pickInTurn).
   */
  pickInTurn(host: string, preferred?: readonly ClientConn[]): ClientConn | undefined {
    if (!this.turnEnding) {
      this.turnEnding = true;
      setImmediate(this.endTurn);
    }
    return this.pickOn(host, preferred, this.turn);
  }

  /** {@link pick}, grouped by `turn` when given. */
  private pickOn(host: string, preferred: readonly ClientConn[] | undefined, turn: number | undefined): ClientConn | undefined {
    const pool = this.route(host);
    if (!pool) return undefined;
    // (No default `[]`: this runs per request, and the common case has no preference.)
    if (preferred) for (const c of preferred) if (c.available && !c.unresponsive && pool.has(c)) return c;
    return turn === undefined ? pool.pick() : pool.pickInTurn(turn);
  }

  /** Picks the next client serving public TCP port `port`, or undefined. */
  pickTcp(port: number): ClientConn | undefined {
    return this.ports.get(port)?.pick();
  }
}
