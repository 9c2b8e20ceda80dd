import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryAfterDelayMs } from './retry-after.ts';

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('5')).toBe(5);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('Sat, 05 Dec 2026 14:00:00 GMT');
    expect(parseRetryAfter('Sat, 05 Dec 2026 14:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Sat, 05 Dec 2026 13:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
  });
});

describe('retryAfterDelayMs', () => {
  it('waits Retry-After plus up to half of it again, spread by the random source', () => {
    expect(retryAfterDelayMs(503, 5, 30_000, () => 0)).toBe(5000);
    expect(retryAfterDelayMs(503, 5, 30_000, () => 0.5)).toBe(6250);
    expect(retryAfterDelayMs(429, 5, 30_000, () => 0.999)).toBe(7498);
  });

  it('clamps the wait to the longest reconnect delay, and keeps the jitter', () => {
    expect(retryAfterDelayMs(503, 3600, 30_000, () => 0)).toBe(30_000);
    expect(retryAfterDelayMs(503, 3600, 30_000, () => 1)).toBe(45_000);
  });

  it('ignores Retry-After on other statuses and when absent', () => {
    expect(retryAfterDelayMs(401, 5, 30_000)).toBeUndefined();
    expect(retryAfterDelayMs(409, 5, 30_000)).toBeUndefined();
    expect(retryAfterDelayMs(503, undefined, 30_000)).toBeUndefined();
  });
});
