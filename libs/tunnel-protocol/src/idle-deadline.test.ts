import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TunnelError } from './errors.ts';
import { Session } from './session.ts';
import { createTransportPair, realClock } from './testing/index.ts';

describe('idle timeout', () => {
  it('declares a silent peer dead within idleTimeoutMs of the last byte, not at the next ping', async () => {
    const [a, b] = createTransportPair();
    // Pings every 10 s: the old check ran only then, 10 s after a 300 ms limit had passed.
    const limits = { pingIntervalMs: 10_000, idleTimeoutMs: 300 };
    const client = new Session({ clock: realClock, role: 'client', transport: a, limits });
    const server = new Session({ clock: realClock, role: 'server', transport: b, limits });
    const started = performance.now();
    a.blackhole();
    const [err] = (await once(client, 'close')) as [TunnelError];
    const took = performance.now() - started;
    expect(err.code).toBe('TUN_ERR_IDLE_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1300);
    server.destroy();
  });

  it('keeps a session that hears from its peer, re-aiming at the last byte heard', async () => {
    const [a, b] = createTransportPair();
    const client = new Session({ clock: realClock, role: 'client', transport: a, limits: { pingIntervalMs: 50, idleTimeoutMs: 300 } });
    const server = new Session({ clock: realClock, role: 'server', transport: b, limits: { pingIntervalMs: 50, idleTimeoutMs: 300 } });
    for (let i = 0; i < 15; i++) await once(client, 'rtt'); // 750 ms of pings, well past 300 ms
    expect(client.isClosed).toBe(false);
    client.destroy();
    server.destroy();
  });
});
