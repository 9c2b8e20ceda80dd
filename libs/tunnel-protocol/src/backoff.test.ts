import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles the ceiling up to the cap (random = 1 shows the ceiling)', () => {
    const b = new Backoff(100, 1000, () => 1);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.attempts).toBe(6);
  });

  it('applies full jitter: anywhere from 0 to the ceiling', () => {
    const zero = new Backoff(100, 1000, () => 0);
    expect([zero.next(), zero.next()]).toEqual([0, 0]);
    const half = new Backoff(100, 1000, () => 0.5);
    expect([half.next(), half.next(), half.next()]).toEqual([50, 100, 200]);
  });

  it('spreads a fleet: 1000 clients at attempt 5 do not reconnect in lockstep', () => {
    const delays = Array.from({ length: 1000 }, () => {
      const b = new Backoff(500, 30_000);
      for (let i = 0; i < 5; i++) b.next();
      return b.next();
    });
    expect(Math.max(...delays)).toBeLessThanOrEqual(16_000);
    expect(new Set(delays.map((d) => Math.floor(d / 1000))).size).toBeGreaterThan(10);
  });

  it('reset starts over from the smallest ceiling', () => {
    const b = new Backoff(100, 1000, () => 1);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('never overflows on very many attempts', () => {
    const b = new Backoff(100, 30_000, () => 1);
    for (let i = 0; i < 10_000; i++) b.next();
    expect(b.next()).toBe(30_000);
  });
});
