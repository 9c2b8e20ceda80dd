import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  status,
  stopAll,
  waitForStatus,
  type ExitServerProc,
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
let server: ExitServerProc;
let pi1: SampleApp;
let pi2: SampleApp;

beforeAll(async () => {
  [server, pi1, pi2] = await Promise.all([
    startExitServer(token, ['--request-timeout', '1s']),
    startSampleApp('pi-1'),
    startSampleApp('pi-2'),
  ]);
});
afterAll(stopAll);

describe('routing through the tunnel', () => {
  it('answers 503 with a clear text when no client is connected', async () => {
    const res = await httpRequest(`${server.publicUrl}/`, { host: 'nobody.test' });
    expect(res.status).toBe(503);
    expect(res.body).toContain('no tunnel is connected for nobody.test');
  });

  it('serves /healthz unauthenticated and /status only with the admin token', async () => {
    const health = await httpRequest(`http://127.0.0.1:${server.controlPort}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const anonymous = await httpRequest(`http://127.0.0.1:${server.controlPort}/status`);
    expect(anonymous.status).toBe(401);
    const wrong = await httpRequest(`http://127.0.0.1:${server.controlPort}/status`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain(token);
    const client = await httpRequest(`http://127.0.0.1:${server.controlPort}/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(client.status).toBe(401);
    const s = await status(server);
    expect(s).toMatchObject({ instanceId: expect.any(String), clients: expect.any(Array) });
  });

  it('splits requests round-robin across two clients of the default upstream', async () => {
    const a = await startEdgeClient(token, server.controlUrl, 'pi-1', [pi1.url]);
    const b = await startEdgeClient(token, server.controlUrl, 'pi-2', [pi2.url]);
    await waitForStatus(server, (s) => s.clients.length === 2);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20; i++) {
      const res = await httpRequest(`${server.publicUrl}/`);
      expect(res.status).toBe(200);
      const instance = JSON.parse(res.body).instance as string;
      counts[instance] = (counts[instance] ?? 0) + 1;
    }
    expect(counts).toEqual({ 'pi-1': 10, 'pi-2': 10 });
    // A stream is a public connection: it closes just after its last response, once the
    // upstream's close has travelled back.
    const s = await waitForStatus(server, (st) => st.clients.every((c) => c.inFlight === 0));
    const served = s.clients.map((c) => c.requestsServed as number).sort();
    expect(served).toEqual([10, 10]);
    for (const c of s.clients) {
      expect(c).toMatchObject({ remoteAddress: '127.0.0.1', hostnames: [], inFlight: 0, connectedSince: expect.any(String) });
      expect(c.bytesIn as number).toBeGreaterThan(0);
      expect(c.bytesOut as number).toBeGreaterThan(0);
    }
    await Promise.all([a.stop(), b.stop()]);
    await waitForStatus(server, (st) => st.clients.length === 0);
  });

  it('routes by Host to the client that declared the hostname, and adds X-Forwarded-*', async () => {
    const c = await startEdgeClient(token, server.controlUrl, 'multi', [`app.example.test=${pi1.url}`, `api.example.test=${pi2.url}`]);
    await waitForStatus(server, (s) => s.clients.some((x) => (x.hostnames as string[]).includes('api.example.test')));
    const app = await httpRequest(`${server.publicUrl}/`, { host: 'app.example.test' });
    const api = await httpRequest(`${server.publicUrl}/`, { host: 'API.example.test:8000' });
    expect(JSON.parse(app.body).instance).toBe('pi-1');
    expect(JSON.parse(api.body).instance).toBe('pi-2');
    const other = await httpRequest(`${server.publicUrl}/`, { host: 'other.example.test' });
    expect(other.status).toBe(503);
    const echo = await httpRequest(`${server.publicUrl}/echo?x=1&y=2`, {
      host: 'app.example.test',
      method: 'PUT',
      body: 'hello',
      headers: { 'x-forwarded-for': '6.6.6.6', 'content-type': 'text/plain' },
    });
    const seen = JSON.parse(echo.body);
    expect(seen).toMatchObject({ method: 'PUT', bodyBytes: 5 });
    // Without --trust-proxy a forged chain is dropped, not appended to.
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe('app.example.test');
    expect(seen.headers.host).toBe('app.example.test');
    await c.stop();
  });

  it('keeps repeated headers such as set-cookie both ways, and strips hop-by-hop ones', async () => {
    const upstream = createServer((req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('x-multi', ['one', 'two']);
      res.setHeader('connection', 'keep-alive, x-hop');
      res.setHeader('x-hop', 'secret-hop');
      res.end(JSON.stringify(req.rawHeaders));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    const c = await startEdgeClient(token, server.controlUrl, 'cookies', [`http://127.0.0.1:${port}`]);
    await waitForStatus(server, (s) => s.clients.length === 1);
    const res = await httpRequest(`${server.publicUrl}/x`, {
      headers: { 'x-req': 'r1', connection: 'x-drop', 'x-drop': 'gone', 'keep-alive': 'timeout=5' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers['x-multi']).toBe('one, two');
    expect(res.headers['x-hop']).toBeUndefined();
    const raw = JSON.parse(res.body) as string[];
    const names = raw.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
    expect(names).toContain('x-req');
    expect(names).not.toContain('x-drop');
    expect(names).not.toContain('keep-alive');
    await c.stop();
    upstream.close();
  });

  it('answers 502 when the upstream is down and 504 when it is too slow', async () => {
    const dead = await startSampleApp('doomed');
    const deadUrl = dead.url;
    await dead.proc.stop('SIGKILL');
    const c1 = await startEdgeClient(token, server.controlUrl, 'dead-upstream', [`dead.test=${deadUrl}`, `slow.test=${pi1.url}`]);
    await waitForStatus(server, (s) => s.clients.length === 1);
    const bad = await httpRequest(`${server.publicUrl}/`, { host: 'dead.test' });
    expect(bad.status).toBe(502);
    const slow = await httpRequest(`${server.publicUrl}/slow?ms=5000`, { host: 'slow.test' });
    expect(slow.status).toBe(504);
    // The session survived both failures.
    const ok = await httpRequest(`${server.publicUrl}/healthz`, { host: 'slow.test' });
    expect(ok.status).toBe(200);
    await c1.stop();
  });
});
