import { describe, expect, it } from 'vitest';
import { RateWindow } from './rate-window.ts';

describe('RateWindow', () => {
  it('counts requests and errors per whole second, oldest first, forgetting what fell out', () => {
    let now = 100_000;
    const w = new RateWindow(5, () => now);
    w.count(false);
    w.count(true);
    now += 1000;
    w.count(false);
    now += 1000;
    expect(w.points()).toEqual([
      { t: 98_000, requests: 0, errors: 0 },
      { t: 99_000, requests: 0, errors: 0 },
      { t: 100_000, requests: 2, errors: 1 },
      { t: 101_000, requests: 1, errors: 0 },
    ]);
    now += 10_000;
    w.count(false);
    expect(w.points().every((p) => p.requests === 0)).toBe(true);
  });
});
