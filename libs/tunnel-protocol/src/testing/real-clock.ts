import type { Clock } from '../clock.ts';

/**
 * Real time and timers for the core's own tests, which may not import @tunnel/tunnel-io (whose
 * `systemClock` the apps and every other suite use). Same contract: only a `keepsAlive` timer holds
 * the process open.
 */
export const realClock: Clock = {
  now: Date.now,
  monotonicNs: () => process.hrtime.bigint(),
  after: (ms, fn, keepsAlive) => cancelWith(clearTimeout, keepsAlive ? setTimeout(fn, ms) : setTimeout(fn, ms).unref()),
  every: (ms, fn) => cancelWith(clearInterval, setInterval(fn, ms).unref()),
  defer: (fn) => void setImmediate(fn),
};

function cancelWith<T>(clear: (timer: T) => void, timer: T): () => void {
  return () => clear(timer);
}
