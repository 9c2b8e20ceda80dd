import { describe, expect, it } from 'vitest';
import { AuthRateLimit, authSource } from './auth-rate-limit.ts';

describe('AuthRateLimit', () => {
  it('refuses an address after maxFailures in a window, with Retry-After until the window ends', () => {
    let now = 1_000_000;
    const rl = new AuthRateLimit({ maxFailures: 3, windowMs: 60_000, maxAddresses: 10, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(rl.check('10.0.0.1').state).toBe('allowed');
      rl.failed('10.0.0.1');
    }
    expect(rl.check('10.0.0.1')).toEqual({ state: 'limited', retryAfterS: 60 });
    expect(rl.check('10.0.0.2').state).toBe('allowed');
    now += 45_500;
    expect(rl.check('10.0.0.1')).toEqual({ state: 'limited', retryAfterS: 15 });
    now += 14_500;
    expect(rl.check('10.0.0.1').state).toBe('allowed');
  });

  it('is bounded in addresses and can be disabled', () => {
    const rl = new AuthRateLimit({ maxFailures: 1, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 1000; i++) rl.failed(`10.0.${i >> 8}.${i & 255}`);
    expect(rl.size).toBe(100);
    const off = new AuthRateLimit({ maxFailures: 0, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 50; i++) off.failed('10.0.0.1');
    expect(off.check('10.0.0.1').state).toBe('allowed');
  });
});

describe('authSource', () => {
  it('counts the socket address, or behind a trusted proxy the last X-Forwarded-For hop', () => {
    expect(authSource('10.0.0.9', '203.0.113.7', false)).toBe('10.0.0.9');
    expect(authSource('10.0.0.9', '198.51.100.1, 203.0.113.7', true)).toBe('203.0.113.7');
    expect(authSource('10.0.0.9', ['198.51.100.1', '2001:db8::1'], true)).toBe('2001:db8::1');
    expect(authSource('10.0.0.9', undefined, true)).toBe('10.0.0.9');
    expect(authSource('10.0.0.9', 'not an address', true)).toBe('10.0.0.9');
  });
});
