import type { Clock } from '@tunnel/tunnel-protocol';

/**
 * Node's clock (Date.now, process.hrtime, setTimeout, setInterval, setImmediate): the one the apps
 * hand their sessions. It lives here, not in the core, which runs on whatever clock it is given.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonicNs: () => process.hrtime.bigint(),
  after(ms: number, fn: () => void, keepsAlive = false): () => void {
    const timer = setTimeout(fn, ms);
    if (!keepsAlive) timer.unref();
    return () => clearTimeout(timer);
  },
  every(ms: number, fn: () => void): () => void {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
  defer(fn: () => void): void {
    setImmediate(fn);
  },
});
