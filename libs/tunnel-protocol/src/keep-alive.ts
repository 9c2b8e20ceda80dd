import type { Borrowed } from './borrowed.ts';
import type { Clock } from './clock.ts';
import { PING_PAYLOAD_BYTES } from './frame.ts';
import { Responsiveness } from './responsiveness.ts';

const NS_PER_MS = 1e6;

/** Timings of a {@link KeepAlive}, from {@link SessionLimits}. */
export interface KeepAliveTimings {
  /** Interval between keep-alive PINGs, ms; 0 sends none. */
  readonly pingIntervalMs: number;
  /** Silence, or time our writes wait with none handed on, after which the peer is declared dead, ms; 0 never does. */
  readonly idleTimeoutMs: number;
  /** Owed silence before a probe PING, and the time it is given, ms; 0 never suspects (see {@link Responsiveness}). */
  readonly unresponsiveAfterMs: number;
}

/** Why a peer was declared dead: nothing heard from it, or it reads nothing of what we send. */
export type DeadCode = 'TUN_ERR_IDLE_TIMEOUT' | 'TUN_ERR_PEER_NOT_READING';

/** The log line of a session closed for each {@link DeadCode} (operators and e2e tests key on them). */
export const DEAD_PEER_LOG: Readonly<Record<DeadCode, string>> = {
  TUN_ERR_IDLE_TIMEOUT: 'peer silent too long: closing session',
  TUN_ERR_PEER_NOT_READING: 'peer reads nothing we send: closing session',
};

/** How the session's writes are moving (its FrameWriter). */
export interface WriteProgress {
  /** Bytes waiting to be handed on, bytes. */
  readonly pendingBytes: number;
  /** Bytes handed on (to the OS) since the start, bytes; grows only while the peer reads. */
  readonly delivered: number;
}

/** What a {@link KeepAlive} asks its session to do. */
export interface KeepAliveHandlers {
  /** Time for a keep-alive PING. */
  readonly ping: () => void;
  /**
   * The peer is dead: nothing heard from it for `ms` (TUN_ERR_IDLE_TIMEOUT), or our writes waited
   * `ms` with none handed on while it kept talking (TUN_ERR_PEER_NOT_READING); `ms` >= idleTimeoutMs.
   */
  readonly dead: (code: DeadCode, ms: number) => void;
  /** The peer turned unresponsive or was heard from again (see {@link Responsiveness}); once per transition. */
  readonly responsive: (responsive: boolean, owedMs: number) => void;
}

/**
 * Liveness of one session: when the peer was last heard from, the keep-alive PING timer, the
 * idle deadline, and the round-trip time of the PING last answered. A peer that keeps talking
 * but reads nothing is dead too: its pings would otherwise keep a session that blackholes
 * everything sent to it. That is seen at the idle checks, so within two idleTimeoutMs.
 */
export class KeepAlive {
  /** Round-trip time of the last answered PING, ms (undefined until one comes back). */
  rttMs: number | undefined;

  private readonly timings: KeepAliveTimings;
  private readonly clock: Clock;
  private readonly handlers: KeepAliveHandlers;
  private readonly output: WriteProgress;
  private readonly responsiveness: Responsiveness;
  /** Most bytes seen handed on: progress is going past it. */
  private deliveredMax = 0;
  /** When the idle checks first saw writes waiting without progress, ms; undefined while they move. */
  private stalledSince: number | undefined;
  private lastHeardAt: number;
  /** Monotonic send time of the PING in flight, ns; 0 before the first. */
  private pingSentAtNs = 0n;
  private stopPings: (() => void) | undefined;
  /** Cancels the idle check, which is re-aimed at idleTimeoutMs after the last byte heard each time it fires. */
  private stopIdleCheck: (() => void) | undefined;

  constructor(timings: KeepAliveTimings, clock: Clock, output: WriteProgress, handlers: KeepAliveHandlers) {
    this.timings = timings;
    this.clock = clock;
    this.output = output;
    this.handlers = handlers;
    this.lastHeardAt = clock.now();
    this.responsiveness = new Responsiveness(timings.unresponsiveAfterMs, clock, { probe: handlers.ping, changed: handlers.responsive });
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
    this.responsiveness.heard();
  }

  /** False while the peer is suspected of having vanished (see {@link Responsiveness}). */
  get responsive(): boolean {
    return this.responsiveness.responsive;
  }

  /** We opened a stream: the peer owes us an answer. */
  expect(): void {
    this.responsiveness.expect();
  }

  /** The opaque payload of a new PING: its monotonic send time, so the answer carrying it yields the RTT. */
  pingPayload(): Buffer {
    const opaque = Buffer.allocUnsafe(PING_PAYLOAD_BYTES);
    this.pingSentAtNs = this.clock.monotonicNs();
    this.responsiveness.expect();
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
    this.responsiveness.stop();
  }

  private checkIdle(): void {
    const idleMs = this.timings.idleTimeoutMs;
    const silent = this.silentForMs;
    if (silent >= idleMs) {
      this.handlers.dead('TUN_ERR_IDLE_TIMEOUT', silent);
      return;
    }
    const stalled = this.stalledForMs();
    if (stalled >= idleMs) {
      this.handlers.dead('TUN_ERR_PEER_NOT_READING', stalled);
      return;
    }
    // Heard from since: aim at idleTimeoutMs after the last byte, or after the stall began.
    this.stopIdleCheck = this.clock.after(Math.min(idleMs - silent, idleMs - stalled), () => this.checkIdle());
  }

  /** How long our writes have waited with none handed on, ms (0 while nothing waits or bytes move). */
  private stalledForMs(): number {
    const { pendingBytes, delivered } = this.output;
    if (pendingBytes === 0 || delivered > this.deliveredMax) {
      this.deliveredMax = Math.max(this.deliveredMax, delivered);
      this.stalledSince = undefined;
      return 0;
    }
    this.stalledSince ??= this.clock.now();
    return this.clock.now() - this.stalledSince;
  }
}
