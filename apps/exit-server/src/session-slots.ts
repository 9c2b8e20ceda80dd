/**
 * Connections of the control port kept for plain HTTP (health checks, /status, /metrics, /ui)
 * beyond the session cap, count. A load balancer health-checks from a few nodes per zone, an
 * operator and a Prometheus scrape add a handful: 64 leaves room for all of them while the
 * session cap is reached, and a flood of idle sockets can still hold no more than cap + 64
 * (each closed at --handshake-timeout).
 */
export const CONTROL_HTTP_RESERVE = 64;

/**
 * Seconds a client refused at the session cap is told to wait (Retry-After): long enough that a
 * fleet waiting for a slot costs a few cheap 503s per second, short enough that a slot freed by a
 * leaving client is taken again within seconds.
 */
export const SESSION_CAP_RETRY_AFTER_S = 5;

/**
 * Counts tunnel sessions (and handshakes past their upgrade request) against the control port's
 * session cap. Sessions are counted, not sockets: the socket count also holds health checks and
 * admin requests, which must keep working when the server is full. The socket total is bounded
 * separately, at {@link SessionSlots.maxSockets}.
 */
export class SessionSlots {
  private used = 0;
  /** Upgrades refused because the cap was reached, count. */
  refused = 0;

  /**
   * @param cap Most sessions (with handshakes in progress) at once, count; 0 = no cap.
   * @param reserve Sockets kept for plain HTTP beyond the cap, count.
   */
  constructor(
    readonly cap: number,
    private readonly reserve: number = CONTROL_HTTP_RESERVE,
  ) {}

  /** Sessions and handshakes holding a slot now, count. */
  get open(): number {
    return this.used;
  }

  /** Most sockets the control port may hold at once (the server's maxConnections), count; 0 = no cap. */
  get maxSockets(): number {
    return this.cap === 0 ? 0 : this.cap + this.reserve;
  }

  /**
   * Takes a slot for an upgrade: returns the release function (idempotent; call it when the
   * socket closes), or undefined when the cap is reached.
   */
  take(): (() => void) | undefined {
    if (this.cap !== 0 && this.used >= this.cap) {
      this.refused++;
      return undefined;
    }
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
    };
  }
}
