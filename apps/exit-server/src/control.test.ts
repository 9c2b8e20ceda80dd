import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, silentLogger } from '@tunnel/tunnel-protocol';
import { ControlPlane, type ControlOptions, type PeerView } from './control.ts';
import { Router } from './router.ts';

const token = 'control-test-token-value-0123456789';
const adminToken = 'control-test-admin-token-0123456789';
let plane: ControlPlane | undefined;

function make(extra: Partial<ControlOptions> = {}): ControlPlane {
  plane = new ControlPlane(
    new Router(),
    {
      token,
      adminToken,
      instanceId: 'inst-1',
      limits: DEFAULT_LIMITS,
      handshakeTimeoutMs: 5000,
      statusExtra: () => ({ extra: 1 }),
      ...extra,
    },
    silentLogger,
  );
  return plane;
}

function peerView(maxPeerClients: number, settled = true): PeerView {
  return {
    live: ['inst-2'],
    maxPeerClients,
    settled,
    snapshot: () => [{ target: '127.0.0.1:9', state: 'live', instanceId: 'inst-2', clients: maxPeerClients, lastLiveAt: 1 }],
  };
}

afterEach(async () => {
  await plane?.app.close();
});

describe('control port HTTP', () => {
  it('keeps idle HTTP connections as long as told (behind an ALB: longer than its idle timeout)', async () => {
    plane = new ControlPlane(
      new Router(),
      {
        token,
        instanceId: 'inst-2',
        limits: DEFAULT_LIMITS,
        handshakeTimeoutMs: 5000,
        keepAliveTimeoutMs: 3_605_000,
        statusExtra: () => ({}),
      },
      silentLogger,
    );
    expect(plane.app.server.keepAliveTimeout).toBe(3_605_000);
  });

  it('GET /healthz answers 200 without auth, 503 while draining', async () => {
    const p = make();
    const ok = await p.app.inject({ method: 'GET', url: '/healthz' });
    expect(ok.statusCode).toBe(200);
    // The instance id is what peers learn here; nothing else is added.
    expect(ok.json()).toEqual({ status: 'ok', instanceId: 'inst-1', clients: 0 });
    p.draining = true;
    const draining = await p.app.inject({ method: 'GET', url: '/healthz' });
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toEqual({ status: 'draining', instanceId: 'inst-1' });
  });

  it('GET /readyz waits for as many clients as the busiest peer holds, up to the ready timeout', async () => {
    const waiting = make({ peers: peerView(2), readyTimeoutMs: 60_000 });
    const res = await waiting.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'waiting for clients' });
    await waiting.app.close();
    const timedOut = make({ peers: peerView(2), readyTimeoutMs: 0 });
    expect((await timedOut.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    timedOut.draining = true;
    expect((await timedOut.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'draining' });
    await timedOut.app.close();
    // Peers not probed yet: their 0 clients mean nothing, so not ready (a replacement in a rolling restart).
    const unsettled = make({ peers: peerView(0, false), readyTimeoutMs: 60_000 });
    expect((await unsettled.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await unsettled.app.close();
    const alone = make();
    expect((await alone.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('GET /status lists the probed peers', async () => {
    const p = make({ peers: peerView(1) });
    const res = await p.app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.json().peers).toEqual([{ target: '127.0.0.1:9', state: 'live', instanceId: 'inst-2', clients: 1, lastLiveAt: 1 }]);
  });

  it('GET /status needs the admin token as a bearer; the client token never opens it; nothing is echoed', async () => {
    const p = make();
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}`, `Basic ${adminToken}`, adminToken]) {
      const res = await p.app.inject({ method: 'GET', url: '/status', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toMatchObject({ error: 'TUN_ERR_ADMIN_AUTH' });
      expect(res.body).not.toContain(token);
      expect(res.body).not.toContain(adminToken);
    }
    const res = await p.app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      instanceId: 'inst-1',
      extra: 1,
      peers: [],
      authRefusals: {},
      sessions: { open: 0, cap: 0, refusedAtCap: 0 },
      clients: [],
    });
  });

  it('without an admin token, /status answers 403 saying how to set one, whatever the bearer', async () => {
    const p = make({ adminToken: undefined });
    for (const authorization of [undefined, `Bearer ${token}`, `Bearer ${adminToken}`]) {
      const res = await p.app.inject({ method: 'GET', url: '/status', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(403);
      expect(res.headers['x-tunnel-error']).toBe('TUN_ERR_ADMIN_DISABLED');
      expect(res.json().message).toMatch(/set env TUNNEL_ADMIN_TOKEN \(or --admin-token-env NAME \/ --admin-token-file PATH\)/);
    }
  });

  it('exports the admin guard for further admin routes', async () => {
    const p = make();
    p.app.get('/metrics', { preHandler: p.requireAdmin }, async () => 'metrics 1\n');
    expect((await p.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
    const ok = await p.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${adminToken}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('metrics 1\n');
  });
});
