import { Backoff } from '@tunnel/tunnel-protocol';

/** A session that held for this many first reconnect delays (--reconnect-min) earns a fresh, short backoff when it is lost: it was not flapping. */
export const HELD_SESSION_RECONNECT_MINS = 4;

/**
 * The edge client's reconnect delays: a {@link Backoff} (exponential, capped, full jitter) that
 * starts over when a session held (or new instances were advertised), but not merely because a
 * server welcomed us: a server that welcomes and drops every session must see the delays grow,
 * not a dial every --reconnect-min.
 */
export class ReconnectBackoff {
  private readonly backoff: Backoff;
  /** The last session lost did not hold: attaching again does not start the backoff over. */
  private flapping = false;

  /**
   * @param minMs First delay ceiling (--reconnect-min), ms.
   * @param maxMs Largest delay ceiling (--reconnect-max), ms.
   */
  constructor(
    private readonly minMs: number,
    maxMs: number,
  ) {
    this.backoff = new Backoff(minMs, maxMs);
  }

  /** Attempts since the last fresh start. */
  get attempts(): number {
    return this.backoff.attempts;
  }

  /** Delay before the next dial, ms. */
  next(): number {
    return this.backoff.next();
  }

  /** Starts over (new instances to attach to are worth a short wait). */
  reset(): void {
    this.backoff.reset();
  }

  /** A session was kept: progress, so the next instance is dialed promptly, unless sessions are flapping. */
  attached(): void {
    if (!this.flapping) this.backoff.reset();
  }

  /** A kept session was lost after `heldMs`; one that held starts the backoff over. */
  lost(heldMs: number): void {
    this.flapping = heldMs <= this.minMs * HELD_SESSION_RECONNECT_MINS;
    if (!this.flapping) this.backoff.reset();
  }
}
