import type { Clock } from '../clock.ts';

interface Timer {
  at: number;
  fn: () => void;
  /** Repeat interval, ms (every); undefined: once (after). */
  every: number | undefined;
  cancelled: boolean;
}

/**
 * A clock whose time moves only when the test calls {@link advance}: timers fire in time order as
 * it passes them. `defer` stays a real setImmediate, as do the in-memory transports' deliveries,
 * so bytes still flow between advances (await a few turns for them).
 */
export class ManualClock implements Clock {
  private ms: number;
  private readonly timers: Timer[] = [];

  constructor(startMs = 1_000_000) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  monotonicNs(): bigint {
    return BigInt(this.ms) * 1_000_000n;
  }

  after(ms: number, fn: () => void): () => void {
    return this.add(ms, fn, undefined);
  }

  every(ms: number, fn: () => void): () => void {
    return this.add(ms, fn, ms);
  }

  defer(fn: () => void): void {
    setImmediate(fn);
  }

  /** Moves time on by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.ms + ms;
    for (;;) {
      const next = this.due(end);
      if (!next) break;
      this.ms = next.at;
      if (next.every === undefined) next.cancelled = true;
      else next.at += next.every;
      next.fn();
    }
    this.ms = end;
  }

  private add(ms: number, fn: () => void, every: number | undefined): () => void {
    const t: Timer = { at: this.ms + Math.max(0, ms), fn, every, cancelled: false };
    this.timers.push(t);
    return () => {
      t.cancelled = true;
    };
  }

  /** The earliest live timer due by `end` (of equal ones, the first set), dropping cancelled ones. */
  private due(end: number): Timer | undefined {
    for (let i = this.timers.length - 1; i >= 0; i--) if (this.timers[i].cancelled) this.timers.splice(i, 1);
    let best: Timer | undefined;
    for (const t of this.timers) if (t.at <= end && (!best || t.at < best.at)) best = t;
    return best;
  }
}
