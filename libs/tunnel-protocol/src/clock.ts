/**
 * The time and timers the protocol core runs on. The core reads the time and sets timers only
 * through the clock it is given (a session's `clock` option, required), so a host or a test can
 * drive it; Node's is `systemClock` in @tunnel/tunnel-io.
 */
export interface Clock {
  /** Wall-clock time, ms since the epoch (deadlines, silence). */
  now(): number;
  /** Monotonic time, ns (round-trip times). */
  monotonicNs(): bigint;
  /**
   * Calls `fn` once after `ms` ms; returns a function that cancels it. The timer keeps the
   * process alive only with `keepsAlive` (a drain deadline does; keep-alive and idle checks do not).
   */
  after(ms: number, fn: () => void, keepsAlive?: boolean): () => void;
  /** Calls `fn` every `ms` ms without keeping the process alive; returns a function that stops it. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` once the I/O callbacks of the current event-loop turn have run (setImmediate). */
  defer(fn: () => void): void;
}
