import { describe, expect, it } from 'vitest';
import { isReady } from './readiness.ts';

const base = { draining: false, clients: 0, maxPeerClients: 0, peersKnown: true, sinceStartMs: 0, readyTimeoutMs: 30_000 };

describe('isReady', () => {
  it('is ready alone or when no peer has clients', () => {
    expect(isReady(base)).toBe(true);
  });
  it('waits until it holds as many clients as the busiest peer', () => {
    expect(isReady({ ...base, maxPeerClients: 2, clients: 1 })).toBe(false);
    expect(isReady({ ...base, maxPeerClients: 2, clients: 2 })).toBe(true);
    expect(isReady({ ...base, maxPeerClients: 2, clients: 3 })).toBe(true);
  });
  it('is ready anyway after the ready timeout', () => {
    expect(isReady({ ...base, maxPeerClients: 2, sinceStartMs: 29_999 })).toBe(false);
    expect(isReady({ ...base, maxPeerClients: 2, sinceStartMs: 30_000 })).toBe(true);
  });
  it('is not ready before its peers were probed once, however few clients they seem to hold', () => {
    expect(isReady({ ...base, peersKnown: false })).toBe(false);
    expect(isReady({ ...base, peersKnown: false, clients: 2 })).toBe(false);
    expect(isReady({ ...base, peersKnown: false, sinceStartMs: 30_000 })).toBe(true);
  });
  it('is never ready while draining', () => {
    expect(isReady({ ...base, draining: true })).toBe(false);
  });
});
