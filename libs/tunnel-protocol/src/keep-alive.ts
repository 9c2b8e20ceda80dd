import type { Borrowed } from './borrowed.ts';
import type { Clock } from './clock.ts';
import { PING_PAYLOAD_BYTES } from './frame.ts';

const NS_PER_MS = 1e6;

/** Timings of a {@link KeepAlive}, from {@link SessionLimits}. */
export interface KeepAliveTimings {
  /** Interval between keep-alive PINGs, ms; 0 sends none. */
  readonly pingIntervalMs: number;
  /** Silence after which the peer is declared dead, ms; 0 never does. */
  readonly idleTimeoutMs: number;
}

/** What a {@link KeepAlive} asks its session to do. */
export interface KeepAliveHandlers {
  /** Time for a keep-alive PING. */
  readonly ping: () => void;
  /** Nothing was heard for `silentMs` (at least idleTimeoutMs): the link is dead. */
  readonly idle: (silentMs: number) => void;
}

/**
 * Liveness of one session: when the peer was last heard from, the keep-alive PING timer, the
 * idle deadline, and the round-trip time of the PING last answered.
 */
export class KeepAlive {
  /** Round-trip time of the last answered PING, ms (undefined until one comes back). */
  rttMs: number | undefined;

  private readonly timings: KeepAliveTimings;
  private readonly clock: Clock;
  private readonly handlers: KeepAliveHandlers;
  private lastHeardAt: number;
  /** Monotonic send time of the PING in flight, ns; 0 before the first. */
  private pingSentAtNs = 0n;
  private stopPings: (() => void) | undefined;
  /** Cancels the idle check, which is re-aimed at idleTimeoutMs after the last byte heard each time it fires. */
  private stopIdleCheck: (() => void) | undefined;

  constructor(timings: KeepAliveTimings, clock: Clock, handlers: KeepAliveHandlers) {
    this.timings = timings;
    this.clock = clock;
    this.handlers = handlers;
    this.lastHeardAt = clock.now();
    if (timings.pingIntervalMs > 0) this.stopPings = clock.every(timings.pingIntervalMs, () => handlers.ping());
    // Its own timer, not the ping's: a dead link is declared within idleTimeoutMs of the last
    // byte heard, not up to a ping interval later.
    if (timings.idleTimeoutMs > 0) this.stopIdleCheck = clock.after(timings.idleTimeoutMs, () => this.checkIdle());
  }

  /** Time since anything was last heard from the peer, ms. */
  get silentForMs(): number {
    return this.clock.now() - this.lastHeardAt;
  }

  /** Bytes arrived from the peer. */
  heard(): void {
    this.lastHeardAt = this.clock.now();
  }

  /** The opaque payload of a new PING: its monotonic send time, so the answer carrying it yields the RTT. */
  pingPayload(): Buffer {
    const opaque = Buffer.allocUnsafe(PING_PAYLOAD_BYTES);
    this.pingSentAtNs = this.clock.monotonicNs();
    opaque.writeBigUInt64BE(this.pingSentAtNs);
    return opaque;
  }

  /** A PING answer arrived: returns the RTT in ms if it answers our last PING (stale and unsolicited ones are ignored). */
  answered(payload: Borrowed): number | undefined {
    if (this.pingSentAtNs === 0n || payload.readBigUInt64BE(0) !== this.pingSentAtNs) return undefined;
    this.rttMs = Number(this.clock.monotonicNs() - this.pingSentAtNs) / NS_PER_MS;
    return this.rttMs;
  }

  /** Stops the timers (the session closed). */
  stop(): void {
    this.stopPings?.();
    this.stopIdleCheck?.();
  }

  private checkIdle(): void {
    const silent = this.silentForMs;
    if (silent >= this.timings.idleTimeoutMs) {
      this.handlers.idle(silent);
      return;
    }
    // Heard from since: aim at idleTimeoutMs after the last byte.
    this.stopIdleCheck = this.clock.after(this.timings.idleTimeoutMs - silent, () => this.checkIdle());
  }
}
