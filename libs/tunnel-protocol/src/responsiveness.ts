import type { Clock } from './clock.ts';

/** What a {@link Responsiveness} asks its session to do. */
export interface ResponsivenessHandlers {
  /** Send a PING now: the probe. */
  readonly probe: () => void;
  /**
   * The peer turned unresponsive (`responsive` false: it owed us something for `owedMs` and then
   * left a probe unanswered too), or was heard from again (true). Called once per transition.
   */
  readonly changed: (responsive: boolean, owedMs: number) => void;
}

/**
 * Fast suspicion of a peer that vanished without closing (power lost, Wi-Fi gone, NAT mapping
 * expired): long before the idle timeout closes the session, a host can stop sending it work.
 *
 * The peer is only watched while it owes us something: from a stream we opened or a PING we sent
 * until the next byte arrives from it. Owed and silent for `afterMs`, it is probed with a PING;
 * that left unanswered (still nothing at all heard) for `afterMs` more, it is unresponsive until
 * the next byte arrives. So a vanished peer is suspected within 2 x afterMs of the first thing it
 * owed, and a live one whose upstream is slow is not: it answers the probe. A peer that stalls
 * (a busy CPU, a TCP retransmission backoff) for over 2 x afterMs is suspected too, and cleared by
 * its next byte. Idle, a peer owes nothing but the keep-alive PINGs' answers: no extra timers.
 */
export class Responsiveness {
  /** False from the unanswered probe until a byte arrives. */
  responsive = true;

  /** When the peer started owing us something with nothing heard since, ms; undefined: owes nothing. */
  private owedSince: number | undefined;
  /** When the probe went out (only while owed), ms. */
  private probedAt: number | undefined;
  private stopCheck: (() => void) | undefined;
  private stopped = false;

  constructor(
    /** Owed silence before the probe, and time the probe is given, ms; 0 watches nothing. */
    private readonly afterMs: number,
    private readonly clock: Clock,
    private readonly handlers: ResponsivenessHandlers,
  ) {}

  /** The peer owes us something from now on (we opened a stream, sent a PING). */
  expect(): void {
    if (this.owedSince !== undefined || this.afterMs <= 0 || this.stopped) return;
    this.owedSince = this.clock.now();
    // A check still aimed at an earlier debt re-aims itself at this one.
    if (this.stopCheck === undefined) this.arm(this.afterMs);
  }

  /** Bytes arrived: whatever was owed, the peer is there. Runs per read: one comparison unless owed. */
  heard(): void {
    if (this.owedSince === undefined) return;
    const owedMs = this.clock.now() - this.owedSince;
    this.owedSince = undefined;
    this.probedAt = undefined;
    if (this.responsive) return;
    this.responsive = true;
    this.handlers.changed(true, owedMs);
  }

  /** Stops watching (the session closed). */
  stop(): void {
    this.stopped = true;
    this.stopCheck?.();
    this.stopCheck = undefined;
  }

  private arm(ms: number): void {
    this.stopCheck = this.clock.after(ms, () => this.check());
  }

  private check(): void {
    this.stopCheck = undefined;
    const since = this.owedSince;
    // Heard from since (or already suspected: the next byte clears it, no timer needed).
    if (since === undefined || !this.responsive) return;
    const now = this.clock.now();
    if (this.probedAt === undefined) {
      const wait = since + this.afterMs - now;
      if (wait > 0) return this.arm(wait);
      this.probedAt = now;
      this.handlers.probe();
      return this.arm(this.afterMs);
    }
    const wait = this.probedAt + this.afterMs - now;
    if (wait > 0) return this.arm(wait);
    this.responsive = false;
    this.handlers.changed(false, now - since);
  }
}
