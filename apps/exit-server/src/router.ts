import type { ClientConn } from './client-conn.ts';

/** A round-robin pool of clients serving one hostname (or the default pool). */
class Pool {
  readonly members: ClientConn[] = [];
  private next = 0;

  pick(): ClientConn | undefined {
    const n = this.members.length;
    for (let i = 0; i < n; i++) {
      const c = this.members[(this.next + i) % n];
      if (c.available) {
        this.next = (this.next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }
}

/**
 * Routes a request's hostname to a connected client: exact hostname first, then the closest
 * `*.` wildcard, then clients that declared no hostname (default upstreams). Round-robin
 * within each pool; draining clients are skipped; a removed client is out of rotation at once.
 */
export class Router {
  private readonly exact = new Map<string, Pool>();
  private readonly wildcard = new Map<string, Pool>();
  private readonly defaults = new Pool();
  private readonly ports = new Map<number, Pool>();
  private readonly all = new Set<ClientConn>();

  /** Every connected client. */
  get clients(): ReadonlySet<ClientConn> {
    return this.all;
  }

  /** Adds a client to the pools it declared: hostnames (if it serves HTTP) and accepted TCP ports. */
  add(client: ClientConn): void {
    this.all.add(client);
    for (const port of client.tcpPorts) {
      let pool = this.ports.get(port);
      if (!pool) this.ports.set(port, (pool = new Pool()));
      pool.members.push(client);
    }
    // A TCP-only client has no HTTP upstream: it must not land in the default pool.
    if (!client.hello.capabilities.includes('http')) return;
    const names = client.hello.hostnames;
    if (names.length === 0) {
      this.defaults.members.push(client);
      return;
    }
    for (const name of names) {
      const map = name.startsWith('*.') ? this.wildcard : this.exact;
      const key = name.startsWith('*.') ? name.slice(2) : name;
      let pool = map.get(key);
      if (!pool) map.set(key, (pool = new Pool()));
      pool.members.push(client);
    }
  }

  /** Removes a client from every pool. */
  remove(client: ClientConn): void {
    if (!this.all.delete(client)) return;
    const drop = (pool: Pool) => {
      const i = pool.members.indexOf(client);
      if (i >= 0) pool.members.splice(i, 1);
    };
    drop(this.defaults);
    const prune = <K>(map: Map<K, Pool>) => {
      for (const [key, pool] of map) {
        drop(pool);
        if (pool.members.length === 0) map.delete(key);
      }
    };
    prune(this.exact);
    prune(this.wildcard);
    prune(this.ports);
  }

  /** Picks the next client for `host` (lower-case, no port), or undefined if none serves it. */
  pick(host: string): ClientConn | undefined {
    const exact = this.exact.get(host)?.pick();
    if (exact) return exact;
    if (this.wildcard.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        const c = this.wildcard.get(host.slice(dot + 1))?.pick();
        if (c) return c;
      }
    }
    return this.defaults.pick();
  }

  /** Picks the next client serving public TCP port `port`, or undefined. */
  pickTcp(port: number): ClientConn | undefined {
    return this.ports.get(port)?.pick();
  }
}
