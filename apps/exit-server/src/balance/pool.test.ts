import { describe, expect, it } from 'vitest';
import { Pool, type Balanced } from './pool.ts';

interface M extends Balanced {
  id: string;
  available: boolean;
  inFlight: number;
  unresponsive?: boolean;
}

const member = (id: string, weight = 1, inFlight = 0): M => ({ id, weight, inFlight, available: true });

function picks(pool: Pool<M>, n: number): string[] {
  return Array.from({ length: n }, () => pool.pick()?.id ?? '-');
}

function shares(pool: Pool<M>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of picks(pool, n)) out[id] = (out[id] ?? 0) + 1;
  return out;
}

describe('Pool, round-robin', () => {
  it('alternates exactly between equal members', () => {
    const pool = new Pool<M>();
    pool.add(member('a'));
    pool.add(member('b'));
    expect(picks(pool, 6)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('honours weights smoothly: 2:1 interleaved, exact over every cycle', () => {
    const pool = new Pool<M>();
    pool.add(member('a', 2));
    pool.add(member('b', 1));
    expect(picks(pool, 6)).toEqual(['a', 'b', 'a', 'a', 'b', 'a']);
    const p2 = new Pool<M>();
    p2.add(member('x', 5));
    p2.add(member('y', 3));
    p2.add(member('z', 1));
    expect(shares(p2, 900)).toEqual({ x: 500, y: 300, z: 100 });
  });

  it('skips members that drain and returns undefined when none is left', () => {
    const pool = new Pool<M>();
    const a = member('a');
    const b = member('b');
    pool.add(a);
    pool.add(b);
    a.available = false;
    expect(picks(pool, 3)).toEqual(['b', 'b', 'b']);
    expect(pool.hasAvailable).toBe(true);
    b.available = false;
    expect(pool.pick()).toBeUndefined();
    expect(pool.hasAvailable).toBe(false);
    expect(pool.remove(a)).toBe(true);
    expect(pool.remove(a)).toBe(false);
    expect(pool.has(a)).toBe(false);
    expect(pool.has(b)).toBe(true);
  });
});

describe('Pool, least-inflight', () => {
  it('picks the member with the fewest requests in flight', () => {
    const pool = new Pool<M>('least-inflight');
    const a = member('a', 1, 3);
    const b = member('b', 1, 1);
    pool.add(a);
    pool.add(b);
    expect(pool.pick()?.id).toBe('b');
    b.inFlight = 5;
    expect(pool.pick()?.id).toBe('a');
  });

  it('measures load per unit of weight', () => {
    const pool = new Pool<M>('least-inflight');
    pool.add(member('big', 4, 6)); // 1.5 per unit
    pool.add(member('small', 1, 2)); // 2 per unit
    expect(pool.pick()?.id).toBe('big');
  });

  it('breaks ties by weighted round-robin, so an idle pool still alternates', () => {
    const pool = new Pool<M>('least-inflight');
    pool.add(member('a'));
    pool.add(member('b'));
    expect(picks(pool, 4)).toEqual(['a', 'b', 'a', 'b']);
    const weighted = new Pool<M>('least-inflight');
    weighted.add(member('a', 2));
    weighted.add(member('b', 1));
    expect(shares(weighted, 300)).toEqual({ a: 200, b: 100 });
  });

  it('sends a slow member (requests pile up) less than a fast one', () => {
    const pool = new Pool<M>('least-inflight');
    const fast = member('fast');
    const slow = member('slow');
    pool.add(fast);
    pool.add(slow);
    // The fast member answers before the next pick; the slow one holds each request for 5 picks.
    const held: number[] = [];
    const counts = { fast: 0, slow: 0 };
    for (let t = 0; t < 100; t++) {
      while (held.length > 0 && held[0] <= t) {
        held.shift();
        slow.inFlight--;
      }
      const m = pool.pick() as M;
      counts[m.id as 'fast' | 'slow']++;
      if (m === slow) {
        slow.inFlight++;
        held.push(t + 5);
      }
    }
    expect(counts.fast).toBeGreaterThan(counts.slow * 2);
  });
});

/** Who `pickInTurn` gives each request to, for turns of the given sizes (one id per request). */
function turnPicks(pool: Pool<M>, sizes: readonly number[]): string[] {
  return sizes.flatMap((size, turn) => Array.from({ length: size }, () => pool.pickInTurn(turn)?.id ?? '-'));
}

describe('Pool.pickInTurn (the requests of one event-loop turn)', () => {
  it('keeps a turn on one member, and alternates exactly when each turn holds one request', () => {
    const pool = new Pool<M>();
    pool.add(member('a'));
    pool.add(member('b'));
    expect(turnPicks(pool, [3, 1])).toEqual(['a', 'a', 'a', 'b']);
    const lone = new Pool<M>();
    lone.add(member('a', 2));
    lone.add(member('b', 1));
    expect(turnPicks(lone, [1, 1, 1, 1, 1, 1])).toEqual(['a', 'b', 'a', 'a', 'b', 'a']);
  });

  it('counts requests, not turns: the member a big turn went to sits out until the others caught up', () => {
    const pool = new Pool<M>();
    pool.add(member('a'));
    pool.add(member('b'));
    expect(turnPicks(pool, [4, 1, 1, 1, 1, 1])).toEqual(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'a']);
  });

  it('keeps shares within one turn of exact over uneven turns', () => {
    const count = (pool: Pool<M>, sizes: number[]): Record<string, number> => {
      const got: Record<string, number> = {};
      for (const id of turnPicks(pool, sizes)) got[id] = (got[id] ?? 0) + 1;
      return got;
    };
    // Turns of 5 and 1 requests in lock-step: a pick per turn would give one member 5 of every 6.
    const even = new Pool<M>();
    even.add(member('a'));
    even.add(member('b'));
    const got = count(
      even,
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 5 : 1)),
    );
    expect(Math.abs(got.a - got.b)).toBeLessThanOrEqual(5);
    const weighted = new Pool<M>();
    weighted.add(member('a', 2));
    weighted.add(member('b', 1));
    const w = count(
      weighted,
      Array.from({ length: 600 }, (_, i) => (i % 7) + 1),
    );
    expect(Math.abs(w.a - ((w.a + w.b) * 2) / 3)).toBeLessThanOrEqual(7);
  });

  it('leaves a member that starts draining mid-turn, and a removed one', () => {
    const pool = new Pool<M>();
    const a = member('a');
    pool.add(a);
    pool.add(member('b'));
    expect(pool.pickInTurn(0)?.id).toBe('a');
    a.available = false;
    expect(pool.pickInTurn(0)?.id).toBe('b');
    a.available = true;
    const first = pool.pickInTurn(1) as M;
    pool.remove(first);
    expect(pool.pickInTurn(1)).not.toBe(first);
  });

  it('picks per request with least-inflight (grouping would herd a burst onto one member)', () => {
    const pool = new Pool<M>('least-inflight');
    const a = member('a');
    const b = member('b');
    pool.add(a);
    pool.add(b);
    const first = pool.pickInTurn(0) as M;
    first.inFlight++;
    expect(pool.pickInTurn(0)).toBe(first === a ? b : a);
  });
});

describe('Pool, unresponsive members', () => {
  for (const policy of ['round-robin', 'least-inflight'] as const) {
    it(`${policy}: skips an unresponsive member while another is responsive, and picks it when it is the only one`, () => {
      const pool = new Pool<M>(policy);
      const a = member('a');
      const b = member('b');
      pool.add(a);
      pool.add(b);
      b.unresponsive = true;
      expect(picks(pool, 4)).toEqual(['a', 'a', 'a', 'a']);
      expect(Array.from({ length: 4 }, (_, i) => pool.pickInTurn(i < 2 ? 1 : 2)?.id)).toEqual(['a', 'a', 'a', 'a']);
      a.available = false; // a drains: b, though unresponsive, is all that is left
      expect(picks(pool, 2)).toEqual(['b', 'b']);
      expect(pool.hasAvailable).toBe(true);
      a.available = true;
      b.unresponsive = false;
      expect(new Set(picks(pool, 4))).toEqual(new Set(['a', 'b']));
    });
  }

  it('a turn that picked a member turning unresponsive moves on to a responsive one', () => {
    const pool = new Pool<M>();
    const a = member('a');
    const b = member('b');
    pool.add(a);
    pool.add(b);
    const first = pool.pickInTurn(7);
    if (!first) throw new Error('no pick');
    first.unresponsive = true;
    const other = first === a ? 'b' : 'a';
    expect([pool.pickInTurn(7)?.id, pool.pickInTurn(7)?.id]).toEqual([other, other]);
  });
});
