import { describe, expect, it } from 'vitest';
import type { ClientConn } from './client-conn.ts';
import { Router } from './router.ts';

function client(
  id: string,
  hostnames: string[] = [],
  ports: number[] = [],
  capabilities = ['http'],
): ClientConn & { session: { isGoingAway: boolean } } {
  const session = { isGoingAway: false };
  return {
    hello: { version: 1, clientId: id, hostnames, tcpPorts: [], capabilities },
    tcpPorts: ports,
    session,
    weight: 1,
    inFlight: 0,
    get available() {
      return !session.isGoingAway;
    },
  } as unknown as ClientConn & { session: { isGoingAway: boolean } };
}

const ids = (r: Router, host: string, n: number) => Array.from({ length: n }, () => r.pick(host)?.hello.clientId ?? null);

describe('Router', () => {
  it('round-robins default clients for any host', () => {
    const r = new Router();
    r.add(client('a'));
    r.add(client('b'));
    expect(ids(r, 'x.test', 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('prefers exact hostnames, then the closest wildcard, then defaults', () => {
    const r = new Router();
    r.add(client('default'));
    r.add(client('exact', ['app.example.test']));
    r.add(client('wild', ['*.example.test']));
    r.add(client('deep', ['*.api.example.test']));
    expect(r.pick('app.example.test')?.hello.clientId).toBe('exact');
    expect(r.pick('other.example.test')?.hello.clientId).toBe('wild');
    expect(r.pick('v1.api.example.test')?.hello.clientId).toBe('deep');
    expect(r.pick('example.test')?.hello.clientId).toBe('default');
    expect(r.pick('elsewhere.test')?.hello.clientId).toBe('default');
  });

  it('returns undefined when nothing serves the host', () => {
    const r = new Router();
    r.add(client('exact', ['app.example.test']));
    expect(r.pick('other.test')).toBeUndefined();
  });

  it('skips draining clients and drops removed ones at once', () => {
    const r = new Router();
    const a = client('a');
    const b = client('b');
    r.add(a);
    r.add(b);
    a.session.isGoingAway = true;
    expect(ids(r, 'h', 3)).toEqual(['b', 'b', 'b']);
    r.remove(b);
    expect(r.pick('h')).toBeUndefined();
    expect(r.clients.size).toBe(1);
    r.remove(a);
    r.remove(a);
    expect(r.clients.size).toBe(0);
  });

  it('round-robins TCP ports per connection and keeps TCP-only clients out of HTTP routing', () => {
    const r = new Router();
    const tcpOnly = client('tcp-only', [], [2222], []);
    r.add(tcpOnly);
    r.add(client('both', [], [2222, 5432]));
    expect([2222, 2222, 2222, 2222].map((p) => r.pickTcp(p)?.hello.clientId)).toEqual(['tcp-only', 'both', 'tcp-only', 'both']);
    expect(r.pickTcp(5432)?.hello.clientId).toBe('both');
    expect(r.pickTcp(9999)).toBeUndefined();
    expect(ids(r, 'any.test', 2)).toEqual(['both', 'both']);
    r.remove(tcpOnly);
    expect(r.pickTcp(2222)?.hello.clientId).toBe('both');
  });

  it('forgets a hostname pool when its last client leaves', () => {
    const r = new Router();
    const a = client('a', ['app.test']);
    r.add(a);
    r.remove(a);
    r.add(client('d'));
    expect(r.pick('app.test')?.hello.clientId).toBe('d');
  });

  it('groups the per-request picks of one event-loop turn, and a sticky preference still wins', async () => {
    const r = new Router();
    const a = client('a');
    r.add(a);
    r.add(client('b'));
    const inTurn = () => r.pickInTurn('x.test')?.hello.clientId;
    expect([inTurn(), inTurn()]).toEqual(['a', 'a']);
    expect(r.pickInTurn('x.test', [a])).toBe(a);
    // The turn ends in the loop's check phase: the next one goes to b, owed two requests.
    await new Promise((resolve) => setImmediate(resolve));
    expect([inTurn()]).toEqual(['b']);
    await new Promise((resolve) => setImmediate(resolve));
    expect([inTurn(), inTurn()]).toEqual(['b', 'b']);
  });

  it('sends nothing to an unresponsive client while another serves the host, not even by its cookie; the only one still gets requests', () => {
    const r = new Router();
    const a = client('a', ['app.test']);
    const b = client('b', ['app.test']);
    const wild = client('wild', ['*.test']);
    r.add(a);
    r.add(b);
    r.add(wild);
    (b as { unresponsive: boolean }).unresponsive = true;
    expect(ids(r, 'app.test', 3)).toEqual(['a', 'a', 'a']);
    expect(r.pick('app.test', [b])?.hello.clientId).toBe('a');
    // The host's own route keeps its unresponsive client rather than falling through to the wildcard.
    a.session.isGoingAway = true;
    expect(ids(r, 'app.test', 2)).toEqual(['b', 'b']);
    (b as { unresponsive: boolean }).unresponsive = false;
    a.session.isGoingAway = false;
    expect(new Set(ids(r, 'app.test', 2))).toEqual(new Set(['a', 'b']));
  });
});
