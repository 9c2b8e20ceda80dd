/** Doublings of the delay ceiling counted at most: 2^30 times any minimum passes any maximum, and never overflows. */
const MAX_DOUBLINGS = 30;

/**
 * Reconnect delays: exponential growth, capped, with full jitter so a fleet that lost its server
 * does not come back in lockstep. The edge client's policy; in the protocol library so the e2e
 * reconnect-storm test drives hundreds of sessions with the very same policy.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    /** First delay ceiling, ms. */
    private readonly minMs: number,
    /** Largest delay ceiling, ms. */
    private readonly maxMs: number,
    /** Source of randomness in [0, 1); injectable for tests. */
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt, ms: uniform in [0, min(max, min * 2^attempt)]. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, MAX_DOUBLINGS));
    this.attempt++;
    return Math.round(this.random() * ceiling);
  }

  /** Back to the smallest ceiling (after a session that held). */
  reset(): void {
    this.attempt = 0;
  }
}
