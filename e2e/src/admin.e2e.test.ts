import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, newToken, run, startEdgeClient, startExitServer, status, stopAll, type ExitServerProc } from '@tunnel/testing';

const token = newToken();
let server: ExitServerProc;

beforeAll(async () => {
  server = await startExitServer(token);
});
afterAll(stopAll);

const statusUrl = () => `http://127.0.0.1:${server.controlPort}/status`;

describe('admin endpoints (real processes)', () => {
  it('/status opens with the admin token only: a client token that opens the tunnel is refused', async () => {
    // the client token is good: a client connects with it
    await startEdgeClient(token, server.controlUrl, 'pi-admin', ['http://127.0.0.1:9']);
    const asClient = await httpRequest(statusUrl(), { headers: { authorization: `Bearer ${token}` } });
    expect(asClient.status).toBe(401);
    expect(asClient.headers['x-tunnel-error']).toBe('TUN_ERR_ADMIN_AUTH');
    expect(asClient.body).not.toContain(token);
    expect(asClient.body).not.toContain('pi-admin');
    const s = await status(server);
    expect(s.clients.map((c) => c.id)).toEqual(['pi-admin']);
    await server.proc.waitForLog('refused admin request', { outcome: 'refused' });
    for (const line of server.proc.lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(server.adminToken);
    }
  });

  it('without an admin token /status answers 403 saying how to set one, and the start-up log says so', async () => {
    const closed = await startExitServer(token, [], {}, {}, { adminToken: null });
    await closed.proc.waitForLog('no admin token: /status and other admin endpoints answer 403 until one is set');
    for (const authorization of [undefined, `Bearer ${token}`]) {
      const res = await httpRequest(`http://127.0.0.1:${closed.controlPort}/status`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({
        error: 'TUN_ERR_ADMIN_DISABLED',
        message: expect.stringContaining('set env TUNNEL_ADMIN_TOKEN'),
      });
    }
    await closed.proc.stop();
  });

  it('refuses to start when the admin token equals the client token', async () => {
    const proc = run('exit-server:same', 'exit-server', ['--port', '0', '--control-port', '0', '--bind', '127.0.0.1'], {
      TUNNEL_TOKEN: token,
      TUNNEL_ADMIN_TOKEN: token,
    });
    expect(await proc.exited).toBe(2);
    expect(proc.lines.join('\n')).toContain('the admin token equals a client token');
    expect(proc.lines.join('\n')).not.toContain(token);
  });
});
