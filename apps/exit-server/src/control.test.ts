import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, silentLogger } from '@tunnel/tunnel-protocol';
import { ControlPlane } from './control.ts';
import { Router } from './router.ts';

const token = 'control-test-token-value';
let plane: ControlPlane | undefined;

function make(): ControlPlane {
  plane = new ControlPlane(
    new Router(),
    { token, instanceId: 'inst-1', limits: DEFAULT_LIMITS, handshakeTimeoutMs: 5000, statusExtra: () => ({ extra: 1 }) },
    silentLogger,
  );
  return plane;
}

afterEach(async () => {
  await plane?.app.close();
});

describe('control port HTTP', () => {
  it('keeps idle HTTP connections as long as told (behind an ALB: longer than its idle timeout)', async () => {
    plane = new ControlPlane(
      new Router(),
      { token, instanceId: 'inst-2', limits: DEFAULT_LIMITS, handshakeTimeoutMs: 5000, keepAliveTimeoutMs: 3_605_000, statusExtra: () => ({}) },
      silentLogger,
    );
    expect(plane.app.server.keepAliveTimeout).toBe(3_605_000);
  });

  it('GET /healthz answers 200 without auth, 503 while draining', async () => {
    const p = make();
    const ok = await p.app.inject({ method: 'GET', url: '/healthz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', clients: 0 });
    p.draining = true;
    expect((await p.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
  });

  it('GET /status needs the token as a bearer and never echoes it', async () => {
    const p = make();
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${token}`, token]) {
      const res = await p.app.inject({ method: 'GET', url: '/status', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain(token);
    }
    const res = await p.app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ instanceId: 'inst-1', extra: 1, clients: [] });
  });
});
