import { describe, expect, it } from 'vitest';
import { silentLogger } from '@tunnel/tunnel-protocol';
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
