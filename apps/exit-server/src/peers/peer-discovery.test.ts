import { describe, expect, it } from 'vitest';
import { silentLogger } from '@tunnel/tunnel-protocol';
import { waitFor } from '@tunnel/testing';
import type { ProbeResult } from './peer-set.ts';
import { PeerDiscovery, type Resolver } from './peer-discovery.ts';
import type { Probe } from './probe.ts';

/** A fleet of fake peers keyed by `host:port`: what each answers on /healthz. */
function fleet(answers: Map<string, ProbeResult>): { probe: Probe; probed: string[] } {
  const probed: string[] = [];
  return {
    probed,
    probe: async (host, port) => {
      const t = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      probed.push(t);
      return answers.get(t) ?? { kind: 'silent' };
    },
  };
}

const base = { selfId: 'self', peers: [], intervalMs: 60_000, timeoutMs: 60_000 };

describe('PeerDiscovery', () => {
  it('static peers: probes each --peer and announces the live ids once per change', async () => {
    const answers = new Map<string, ProbeResult>([
      ['10.0.0.2:8123', { kind: 'live', instanceId: 'b', clients: 0 }],
      ['10.0.0.3:8123', { kind: 'live', instanceId: 'c', clients: 0 }],
    ]);
    const { probe } = fleet(answers);
    const d = new PeerDiscovery(
      {
        ...base,
        peers: [
          { host: '10.0.0.2', port: 8123 },
          { host: '10.0.0.3', port: 8123 },
        ],
        probe,
      },
      silentLogger,
    );
    const changes: string[][] = [];
    d.on('change', (ids: string[]) => changes.push(ids));
    await d.round();
    await d.round();
    expect(changes).toEqual([['b', 'c']]);
    answers.set('10.0.0.3:8123', { kind: 'draining' });
    await d.round();
    expect(changes).toEqual([['b', 'c'], ['b']]);
    expect(d.live).toEqual(['b']);
  });

  it('DNS peers: every A/AAAA record is probed, re-resolved each round; its own address is recognised by id', async () => {
    let records = ['172.18.0.2', '172.18.0.3'];
    const resolve: Resolver = async (name) => {
      expect(name).toBe('exit.internal');
      return records;
    };
    const answers = new Map<string, ProbeResult>([
      ['172.18.0.2:8123', { kind: 'live', instanceId: 'self', clients: 0 }],
      ['172.18.0.3:8123', { kind: 'live', instanceId: 'b', clients: 2 }],
      ['[fd00::4]:8123', { kind: 'live', instanceId: 'd', clients: 0 }],
    ]);
    const { probe, probed } = fleet(answers);
    const d = new PeerDiscovery({ ...base, dns: { name: 'exit.internal', port: 8123 }, probe, resolve }, silentLogger);
    expect(d.settled).toBe(false);
    await d.round();
    expect(d.settled).toBe(true);
    expect(d.live).toEqual(['b']);
    expect(d.maxPeerClients).toBe(2);
    records = ['172.18.0.2', 'fd00::4'];
    await d.round();
    expect(probed).toContain('[fd00::4]:8123');
    // 172.18.0.3 left the DNS answer: it is no longer a peer.
    expect(d.live).toEqual(['d']);
  });

  it('settles only once every peer answered or stayed silent for the timeout, and stays settled', async () => {
    // A replacement on a loaded host whose first probes time out must not take its busy peer's
    // client count for 0 (it answered /readyz 200 with no client attached: 503s in a rolling restart).
    const answers = new Map<string, ProbeResult>([['10.0.0.2:8123', { kind: 'silent' }]]);
    const d = new PeerDiscovery({ ...base, peers: [{ host: '10.0.0.2', port: 8123 }], probe: fleet(answers).probe }, silentLogger);
    await d.round();
    await d.round();
    expect(d.settled).toBe(false);
    answers.set('10.0.0.2:8123', { kind: 'live', instanceId: 'b', clients: 2 });
    await d.round();
    expect(d.settled).toBe(true);
    expect(d.maxPeerClients).toBe(2);
    answers.set('10.0.0.2:8123', { kind: 'draining' });
    await d.round();
    expect(d.settled).toBe(true);
  });

  it('a peer silent for the whole timeout since it was listed no longer holds readiness back', async () => {
    const d = new PeerDiscovery(
      { ...base, timeoutMs: 30, peers: [{ host: '10.0.0.9', port: 8123 }], probe: fleet(new Map()).probe },
      silentLogger,
    );
    const t0 = Date.now();
    await d.round();
    expect(d.settled).toBe(false);
    await waitFor(
      async () => {
        await d.round();
        return d.settled;
      },
      { timeoutMs: 5000, intervalMs: 10, what: 'discovery settled' },
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(30);
    expect(d.maxPeerClients).toBe(0);
  });

  it('a failed lookup keeps the last answer instead of emptying the set', async () => {
    let fail = false;
    const resolve: Resolver = async () => {
      if (fail) throw Object.assign(new Error('servfail'), { code: 'ESERVFAIL' });
      return ['10.1.0.2'];
    };
    const { probe } = fleet(new Map([['10.1.0.2:9', { kind: 'live', instanceId: 'b', clients: 0 }]]));
    const d = new PeerDiscovery({ ...base, dns: { name: 'x.internal', port: 9 }, probe, resolve }, silentLogger);
    await d.round();
    fail = true;
    await d.round();
    expect(d.live).toEqual(['b']);
  });

  it('is disabled without --peer or --peers-dns', () => {
    const d = new PeerDiscovery({ ...base, probe: fleet(new Map()).probe }, silentLogger);
    expect(d.enabled).toBe(false);
    d.start();
    expect(d.live).toEqual([]);
  });
});
