import { readFileSync } from 'node:fs';
import { parseExposition, promqlNames, sumSamples, type Family } from '@tunnel/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePorts,
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  stopAll,
  waitFor,
  waitForStatus,
  type ExitServerProc,
  type Proc,
  type SampleApp,
} from '@tunnel/testing';
import { dial, readAll } from './tcp-fixtures.ts';

// Values that must never appear in any log line of any process.
const SECRET_COOKIE = 'sid=cookie-secret-4711';
const SECRET_AUTH = 'Bearer auth-secret-4711';
const SECRET_QUERY = 'query-secret-4711';

async function metricsOf(port: number): Promise<Map<string, Family>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await res.text());
}

/** Access-log lines of a process, parsed. */
function accessLines(p: Proc): Array<Record<string, unknown>> {
  return p.lines.filter((l) => l.includes('"log":"access"')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls until `check` stops throwing (readiness on state, not time). */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const passed = await waitFor(async () => ({ value: await check() }), { timeoutMs, intervalMs: 50, what: 'the check to pass' });
  return passed.value;
}

describe('metrics and access logs after real traffic through a loopback tunnel', () => {
  const token = newToken();
  let apps: SampleApp[];
  let server: ExitServerProc;
  let metricsPort: number;
  let clients: Proc[];
  let clientMetricsPorts: number[];
  let tcpPort: number;

  beforeAll(async () => {
    apps = [await startSampleApp('pi-1'), await startSampleApp('pi-2')];
    [tcpPort] = await freePorts(1);
    server = await startExitServer(token, ['--metrics-bind', '127.0.0.1:0', '--ping-interval', '200ms', '--tcp-port', String(tcpPort)]);
    metricsPort = (await server.proc.waitForLog('exit server listening')).metricsPort as number;
    clients = [];
    clientMetricsPorts = [];
    for (const [i, app] of apps.entries()) {
      const tcp = i === 0 ? ['--tcp', `${tcpPort}=127.0.0.1:${app.port}`] : [];
      const c = await startEdgeClient(token, server.controlUrl, `pi-${i + 1}`, [`app.test=${app.url}`], {
        args: ['--metrics-bind', '127.0.0.1:0', ...tcp],
      });
      clients.push(c);
      clientMetricsPorts.push((await c.waitForLog('edge client metrics listening')).metricsPort as number);
    }
  });
  afterAll(stopAll);

  it('exports every family with counts that match the traffic, and logs each request on both ends without secrets', async () => {
    const N = 10;
    for (let i = 0; i < N; i++) {
      const res = await httpRequest(`${server.publicUrl}/echo?token=${SECRET_QUERY}&i=${i}`, {
        method: i % 2 === 0 ? 'GET' : 'POST',
        host: 'app.test',
        headers: { cookie: SECRET_COOKIE, authorization: SECRET_AUTH },
        body: i % 2 === 0 ? undefined : 'x'.repeat(1000),
      });
      expect(res.status).toBe(200);
      // The upstream got the id the access logs carry.
      expect(JSON.parse(res.body).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect((await httpRequest(`${server.publicUrl}/`, { host: 'nobody.test' })).status).toBe(503);
    // One TCP connection through the public TCP port (an HTTP request to pi-1's app, raw).
    const s = await dial(tcpPort);
    s.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await readAll(s)).data.toString()).toContain('pi-1');
    // A client with the wrong token: refused before the upgrade.
    const bad = await startEdgeClient('wrong-token-wrong-token-wrong-token', server.controlUrl, 'intruder', [apps[0].url], {
      waitConnected: false,
    });
    await bad.waitForLine((l) => l.includes('TUN_ERR_AUTH'));
    await bad.stop();

    const m = await eventually(async () => {
      const f = await metricsOf(metricsPort);
      // RTTs arrive with the first pings (every 200 ms here).
      expect(
        f
          .get('tunnel_ping_rtt_seconds')
          ?.samples.map((x) => x.labels.client)
          .sort(),
      ).toEqual(['pi-1', 'pi-2']);
      expect(sumSamples(f, 'tunnel_tcp_connections_total', { port: String(tcpPort) })).toBe(1);
      return f;
    });
    const types = Object.fromEntries([...m.values()].map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      tunnel_clients_connected: 'gauge',
      tunnel_client_sessions: 'gauge',
      tunnel_http_requests_total: 'counter',
      tunnel_http_request_duration_seconds: 'histogram',
      tunnel_streams_in_flight: 'gauge',
      tunnel_bytes_total: 'counter',
      tunnel_tcp_connections_total: 'counter',
      tunnel_auth_failures_total: 'counter',
      tunnel_client_reconnects_total: 'counter',
      tunnel_client_unresponsive_total: 'counter',
      tunnel_clients_unresponsive: 'gauge',
      tunnel_ping_rtt_seconds: 'gauge',
      process_cpu_user_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
    });
    expect(sumSamples(m, 'tunnel_clients_connected')).toBe(2);
    expect(m.get('tunnel_client_sessions')?.samples).toEqual([
      { name: 'tunnel_client_sessions', labels: { instance: expect.any(String) }, value: 2 },
    ]);
    // Fresh connections alternate between the two clients.
    expect(sumSamples(m, 'tunnel_http_requests_total', { host: 'app.test', code_class: '2xx' })).toBe(N);
    expect(sumSamples(m, 'tunnel_http_requests_total', { host: 'app.test', client: 'pi-1', code_class: '2xx' })).toBe(N / 2);
    expect(sumSamples(m, 'tunnel_http_requests_total', { host: 'app.test', client: 'pi-2', code_class: '2xx' })).toBe(N / 2);
    // The unknown host collapses into _other; no client took it.
    expect(sumSamples(m, 'tunnel_http_requests_total', { host: '_other', client: '_none', code_class: '5xx' })).toBe(1);
    const hosts = new Set(m.get('tunnel_http_requests_total')?.samples.map((x) => x.labels.host));
    expect([...hosts].sort()).toEqual(['_other', 'app.test']);
    expect(sumSamples(m, 'tunnel_http_request_duration_seconds_count', { host: 'app.test', phase: 'complete' })).toBe(N);
    expect(sumSamples(m, 'tunnel_http_request_duration_seconds_count', { host: 'app.test', phase: 'first_byte' })).toBe(N);
    expect(sumSamples(m, 'tunnel_http_request_duration_seconds_bucket', { host: 'app.test', phase: 'complete', le: '+Inf' })).toBe(N);
    expect(sumSamples(m, 'tunnel_bytes_total', { direction: 'in' })).toBeGreaterThan(N * 100);
    expect(sumSamples(m, 'tunnel_bytes_total', { direction: 'out' })).toBeGreaterThan(5 * 1000);
    expect(sumSamples(m, 'tunnel_auth_failures_total', { reason: 'TUN_ERR_AUTH' })).toBeGreaterThanOrEqual(1);
    expect(sumSamples(m, 'tunnel_client_reconnects_total')).toBe(0);
    expect(sumSamples(m, 'tunnel_client_unresponsive_total')).toBe(0);

    // The edge clients count what they passed to their upstreams.
    const edge = await Promise.all(clientMetricsPorts.map(metricsOf));
    expect(edge.map((f) => sumSamples(f, 'tunnel_edge_upstream_requests_total', { code_class: '2xx' }))).toEqual([N / 2, N / 2]);
    for (const f of edge) {
      expect(f.get('tunnel_edge_upstream_latency_seconds')?.type).toBe('histogram');
      expect(sumSamples(f, 'tunnel_edge_upstream_latency_seconds_count', { phase: 'first_byte' })).toBe(N / 2);
      expect(sumSamples(f, 'tunnel_edge_upstream_latency_seconds_count', { phase: 'connect' })).toBeGreaterThanOrEqual(N / 2);
      expect(sumSamples(f, 'tunnel_edge_sessions_total')).toBe(1);
      expect(sumSamples(f, 'tunnel_edge_connected')).toBe(1);
      expect(f.get('tunnel_edge_upstream_errors_total')?.type).toBe('counter');
      expect(f.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    }
    expect(sumSamples(edge[0], 'tunnel_edge_tcp_connections_total', { port: String(tcpPort) })).toBe(1);

    // Access logs: one line per request on the exit server, the same ids on the clients.
    const serverLines = accessLines(server.proc).filter((l) => l.host === 'app.test');
    expect(serverLines).toHaveLength(N);
    for (const l of serverLines) {
      expect(l).toMatchObject({
        app: 'exit-server',
        msg: 'request',
        remote: '127.0.0.1',
        host: 'app.test',
        path: '/echo',
        status: 200,
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(['GET', 'POST']).toContain(l.method);
      expect(['pi-1', 'pi-2']).toContain(l.client);
      expect(typeof l.time).toBe('number');
      expect(l.ms).toBeGreaterThanOrEqual(0);
      expect(l.bytesOut).toBeGreaterThan(100);
      expect(l.bytesIn).toBeGreaterThan(l.method === 'POST' ? 1000 : 50);
    }
    expect(accessLines(server.proc).find((l) => l.host === 'nobody.test')).toMatchObject({ status: 503, requestId: expect.any(String) });
    const edgeLines = await eventually(async () => {
      const all = clients.flatMap(accessLines);
      expect(all).toHaveLength(N);
      return all;
    });
    expect(new Set(edgeLines.map((l) => l.requestId))).toEqual(new Set(serverLines.map((l) => l.requestId)));
    for (const l of edgeLines) {
      const twin = serverLines.find((s) => s.requestId === l.requestId);
      expect(l).toMatchObject({
        app: 'edge-client',
        msg: 'request',
        method: twin?.method,
        host: 'app.test',
        path: '/echo',
        status: 200,
        upstream: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      });
      expect(l.bytesIn).toBeGreaterThan(0);
      expect(l.bytesOut).toBeGreaterThan(100);
    }
    for (const p of [server.proc, ...clients]) {
      for (const line of p.lines) {
        for (const secret of [SECRET_COOKIE, SECRET_AUTH, 'cookie-secret', 'auth-secret', SECRET_QUERY, token])
          expect(line).not.toContain(secret);
      }
    }
  });

  it('the Grafana dashboard queries only metrics and labels the apps really export', async () => {
    const exported = new Map<string, Set<string>>();
    for (const families of [await metricsOf(metricsPort), ...(await Promise.all(clientMetricsPorts.map(metricsOf)))]) {
      for (const f of families.values()) {
        for (const sample of f.samples) {
          const labels = exported.get(sample.name) ?? new Set<string>();
          for (const l of Object.keys(sample.labels)) labels.add(l);
          exported.set(sample.name, labels);
        }
      }
    }
    // Labels Prometheus adds to every series of a scrape target.
    const targetLabels = ['job', 'instance'];
    const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana/tunnel-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    let queries = 0;
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        queries++;
        const names = promqlNames(expr);
        expect(names.metrics.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const metric of names.metrics) expect(exported.has(metric), `${panel.title}: ${metric} is not exported`).toBe(true);
        const known = new Set([...targetLabels, ...names.metrics.flatMap((m) => [...(exported.get(m) ?? [])])]);
        for (const label of names.labels)
          expect(known.has(label), `${panel.title}: label ${label} is not on ${names.metrics.join(', ')}`).toBe(true);
      }
    }
    expect(queries).toBeGreaterThanOrEqual(20);
  });

  it('serves the same metrics on the control port, to the admin token only', async () => {
    const url = `http://127.0.0.1:${server.controlPort}/metrics`;
    const ok = await fetch(url, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(ok.status).toBe(200);
    const m = parseExposition(await ok.text());
    expect(sumSamples(m, 'tunnel_clients_connected')).toBe(2);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const after = await metricsOf(metricsPort);
    expect(sumSamples(after, 'tunnel_auth_failures_total', { reason: 'TUN_ERR_ADMIN_AUTH' })).toBe(2);
  });

  it('counts a client that comes back as a reconnect', async () => {
    await clients[1].stop();
    await waitForStatus(server, (st) => st.clients.length === 1);
    clients[1] = await startEdgeClient(token, server.controlUrl, 'pi-2', [`app.test=${apps[1].url}`]);
    await eventually(async () => expect(sumSamples(await metricsOf(metricsPort), 'tunnel_client_reconnects_total')).toBe(1));
  });
});

describe('request ids and the real client behind a trusted proxy', () => {
  const token = newToken();
  afterAll(stopAll);

  it('keeps X-Request-Id and logs the last X-Forwarded-For entry with --trust-proxy; replaces both without it', async () => {
    const app = await startSampleApp('pi-1');
    const trusted = await startExitServer(token, ['--trust-proxy']);
    const plain = await startExitServer(token, []);
    const a = await startEdgeClient(token, trusted.controlUrl, 'a', [app.url]);
    await startEdgeClient(token, plain.controlUrl, 'b', [app.url]);
    const headers = { 'x-request-id': 'trace-abc.1', 'x-forwarded-for': '6.6.6.6, 198.51.100.7' };
    const viaTrusted = JSON.parse((await httpRequest(`${trusted.publicUrl}/echo`, { headers })).body);
    expect(viaTrusted.headers['x-request-id']).toBe('trace-abc.1');
    const viaPlain = JSON.parse((await httpRequest(`${plain.publicUrl}/echo`, { headers })).body);
    expect(viaPlain.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await trusted.proc.waitForLog('request', { requestId: 'trace-abc.1' })).toMatchObject({ remote: '198.51.100.7' });
    expect(await a.waitForLog('request', { requestId: 'trace-abc.1' })).toMatchObject({ status: 200, path: '/echo' });
    expect(await plain.proc.waitForLog('request', { requestId: viaPlain.headers['x-request-id'] })).toMatchObject({ remote: '127.0.0.1' });
    // An unusable id from a trusted proxy is replaced, not passed on.
    const odd = JSON.parse((await httpRequest(`${trusted.publicUrl}/echo`, { headers: { 'x-request-id': 'has space' } })).body);
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
