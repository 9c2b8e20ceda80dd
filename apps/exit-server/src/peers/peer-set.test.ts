import { describe, expect, it } from 'vitest';
import { PeerSet } from './peer-set.ts';

const live = (instanceId: string, clients = 0) => ({ kind: 'live', instanceId, clients }) as const;

describe('PeerSet', () => {
  it('a target that answers with an id is live; its own id is never a peer', () => {
    const set = new PeerSet('self', 5000);
    set.setTargets(['10.0.0.1:8123', '10.0.0.2:8123', '10.0.0.3:8123'], 0);
    set.observe('10.0.0.1:8123', live('b', 2), 1000);
    set.observe('10.0.0.2:8123', live('self', 7), 1000);
    set.observe('10.0.0.3:8123', live('a', 1), 1000);
    expect(set.live).toEqual(['a', 'b']);
    expect(set.maxPeerClients).toBe(2);
    expect(set.snapshot().find((e) => e.target === '10.0.0.2:8123')?.state).toBe('self');
  });

  it('a peer that stops answering leaves once silent for the timeout', () => {
    const set = new PeerSet('self', 5000);
    set.setTargets(['p:1'], 0);
    set.observe('p:1', live('a'), 1000);
    set.observe('p:1', { kind: 'silent' }, 3000);
    expect(set.live).toEqual(['a']);
    set.observe('p:1', { kind: 'silent' }, 6000);
    expect(set.live).toEqual([]);
    expect(set.snapshot()[0]).toMatchObject({ state: 'gone', instanceId: 'a' });
    // It comes back as soon as it answers again, possibly as a new instance (restarted).
    set.observe('p:1', live('a2'), 7000);
    expect(set.live).toEqual(['a2']);
  });

  it('a peer that answers draining leaves at once', () => {
    const set = new PeerSet('self', 5000);
    set.setTargets(['p:1'], 0);
    set.observe('p:1', live('a'), 1000);
    set.observe('p:1', { kind: 'draining' }, 1001);
    expect(set.live).toEqual([]);
  });

  it('a new target that does not answer stays unknown (undecided) until silent for the timeout since it was listed', () => {
    const set = new PeerSet('self', 5000);
    set.setTargets(['p:1', 'p:2'], 1000);
    expect(set.decided).toBe(false);
    set.observe('p:2', live('b', 2), 1200);
    // A probe that timed out on a loaded host is no answer: p:1 may hold more clients than b.
    set.observe('p:1', { kind: 'silent' }, 1250);
    expect(set.snapshot().find((e) => e.target === 'p:1')?.state).toBe('unknown');
    expect(set.decided).toBe(false);
    set.observe('p:1', { kind: 'silent' }, 5999);
    expect(set.decided).toBe(false);
    set.observe('p:1', { kind: 'silent' }, 6000);
    expect(set.snapshot().find((e) => e.target === 'p:1')?.state).toBe('gone');
    expect(set.decided).toBe(true);
    expect(set.maxPeerClients).toBe(2);
    // A target listed later starts its own clock.
    set.setTargets(['p:1', 'p:2', 'p:3'], 7000);
    set.observe('p:3', { kind: 'silent' }, 11_999);
    expect(set.decided).toBe(false);
    set.observe('p:3', { kind: 'draining' }, 12_000);
    expect(set.decided).toBe(true);
  });

  it('a target never heard from is not live; removed targets are forgotten and their late results ignored', () => {
    const set = new PeerSet('self', 5000);
    set.setTargets(['p:1', 'p:2'], 0);
    set.observe('p:1', { kind: 'silent' }, 1000);
    expect(set.live).toEqual([]);
    set.observe('p:2', live('b'), 1000);
    set.setTargets(['p:1'], 0);
    expect(set.live).toEqual([]);
    set.observe('p:2', live('b'), 1001);
    expect(set.live).toEqual([]);
    expect(set.targets).toEqual(['p:1']);
  });

  it('two addresses of one instance count once', () => {
    const set = new PeerSet('self', 5000);
    set.setTargets(['10.0.0.1:1', '[fd00::1]:1'], 0);
    set.observe('10.0.0.1:1', live('a'), 1);
    set.observe('[fd00::1]:1', live('a'), 1);
    expect(set.live).toEqual(['a']);
  });
});
