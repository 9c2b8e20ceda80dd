import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CounterFamily } from './counter-family.ts';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => server?.close());

  it('serves /metrics as Prometheus text, 404 elsewhere, 405 for other methods', async () => {
    const registry = new Registry();
    new CounterFamily(registry, { name: 's_total', help: 's', labelNames: ['k'] }).series({ k: 'v' }).value = 7;
    server = await startMetricsServer(registry, { host: '127.0.0.1', port: 0 });
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await res.text()).toContain('s_total{k="v"} 7');
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
