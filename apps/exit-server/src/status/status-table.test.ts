import { describe, expect, it } from 'vitest';
import { formatBytes, formatUptime, renderStatus, withRates, type StatusClient, type StatusDoc } from './status-table.ts';

const client = (over: Partial<StatusClient>): StatusClient => ({
  id: 'pi-1',
  sessionId: 's-1',
  remoteAddress: '10.0.0.5',
  hostnames: [],
  tcpPorts: [],
  connectedSince: '2026-11-28T10:00:00.000Z',
  inFlight: 0,
  requestsServed: 0,
  bytesIn: 0,
  bytesOut: 0,
  lastRttMs: null,
  ...over,
});

describe('status table', () => {
  it('computes req/s per session from two reads, and none for a session seen once', () => {
    const before: StatusDoc = { instanceId: 'i', clients: [client({ requestsServed: 10 })] };
    const after: StatusDoc = {
      instanceId: 'i',
      clients: [client({ requestsServed: 30 }), client({ id: 'pi-2', sessionId: 's-2', requestsServed: 5 })],
    };
    expect(withRates(after, before, 2000).clients.map((c) => c.requestsPerSecond)).toEqual([10, null]);
    expect(withRates(after, undefined, 0).clients.map((c) => c.requestsPerSecond)).toEqual([null, null]);
  });

  it('renders every client with its hostnames and ports, uptime, rate, bytes and RTT, and the peers', () => {
    const s = withRates(
      {
        instanceId: 'inst-a',
        clients: [
          client({
            id: 'pi-1',
            hostnames: ['app.test'],
            tcpPorts: [2222],
            inFlight: 2,
            requestsServed: 40,
            bytesIn: 1536,
            bytesOut: 3 * 1024 * 1024,
            lastRttMs: 1.25,
          }),
        ],
        peers: [{ target: '10.0.0.9:8123', state: 'live', instanceId: 'inst-b', clients: 1 }],
      },
      { instanceId: 'inst-a', clients: [client({ requestsServed: 20 })] },
      1000,
    );
    const text = renderStatus(s, Date.parse('2026-11-28T11:02:03Z'));
    expect(text).toContain('exit server inst-a: 1 client session(s)');
    const row = text.split('\n').find((l) => l.startsWith('pi-1')) ?? '';
    expect(row.split(/\s{2,}/)).toEqual(['pi-1', '10.0.0.5', 'app.test,tcp:2222', '1h2m', '20.0', '2', '40', '1.5KiB', '3.0MiB', '1.3']);
    expect(text).toMatch(/10\.0\.0\.9:8123\s+live\s+inst-b\s+1/);
    expect(renderStatus(withRates({ instanceId: 'x', clients: [] }, undefined, 0), 0)).toContain('no client is connected');
  });

  it('marks unresponsive and draining clients after their id', () => {
    const doc: StatusDoc = {
      instanceId: 'i',
      clients: [
        client({ id: 'pi-1', state: 'unresponsive' }),
        client({ id: 'pi-2', sessionId: 's-2', draining: true, state: 'draining' }),
        client({ id: 'pi-3', sessionId: 's-3', state: 'active' }),
      ],
    };
    const rows = renderStatus(withRates(doc, undefined, 0), 0).split('\n');
    expect(rows.filter((l) => l.startsWith('pi-')).map((l) => l.split(/\s{2,}/)[0])).toEqual([
      'pi-1 (unresponsive)',
      'pi-2 (draining)',
      'pi-3',
    ]);
  });

  it('formats uptimes and sizes', () => {
    expect(formatUptime(5_000)).toBe('5s');
    expect(formatUptime(65_000)).toBe('1m5s');
    expect(formatUptime(93_784_000)).toBe('1d2h');
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1024 ** 3 * 2.5)).toBe('2.5GiB');
  });
});
