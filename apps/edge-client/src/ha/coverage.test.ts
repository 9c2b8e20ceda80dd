import { describe, expect, it } from 'vitest';
import { Coverage } from './coverage.ts';

describe('Coverage: the attach-until-covered rules', () => {
  it('a lone server without peers is covered by one session', () => {
    const c = new Coverage(16);
    expect(c.covered).toBe(false);
    expect(c.target).toBe(1);
    expect(c.opened('a', [])).toBe('keep');
    expect(c.covered).toBe(true);
  });

  it('keeps dialing until it holds one session per advertised instance', () => {
    const c = new Coverage(16);
    expect(c.opened('a', ['b', 'c'])).toBe('keep');
    expect(c.target).toBe(3);
    expect(c.covered).toBe(false);
    expect(c.opened('a', ['b', 'c'])).toBe('duplicate');
    expect(c.opened('c', ['a', 'b'])).toBe('keep');
    expect(c.covered).toBe(false);
    expect(c.opened('b', ['a', 'c'])).toBe('keep');
    expect(c.covered).toBe(true);
    expect(c.attached).toEqual(['a', 'b', 'c']);
  });

  it('a duplicate is refused whatever the counts', () => {
    const c = new Coverage(1);
    expect(c.opened('a', ['b'])).toBe('keep');
    expect(c.opened('a', ['b'])).toBe('duplicate');
    expect(c.opened('b', ['a'])).toBe('surplus');
  });

  it('--ha-connections N caps the sessions held', () => {
    const c = new Coverage(2);
    c.opened('a', ['b', 'c']);
    expect(c.target).toBe(2);
    expect(c.opened('b', ['a', 'c'])).toBe('keep');
    expect(c.covered).toBe(true);
    expect(c.opened('c', ['a', 'b'])).toBe('surplus');
  });

  it('an instance nobody advertised yet (new, not discovered) is kept while sessions are still wanted', () => {
    const c = new Coverage(16);
    c.opened('a', ['b']);
    expect(c.opened('new', [])).toBe('keep');
    // Once covered, a stranger is surplus: the fleet did not name it.
    c.opened('b', ['a']);
    expect(c.covered).toBe(true);
    expect(c.opened('stranger', [])).toBe('surplus');
  });

  it('advertised-set changes: a new peer makes it dial again; a peer that left lowers the target', () => {
    const c = new Coverage(16);
    c.opened('a', ['b']);
    c.opened('b', ['a']);
    expect(c.covered).toBe(true);
    expect(c.advertised('a', ['b', 'd'])).toEqual(['d']);
    expect(c.covered).toBe(false);
    expect(c.advertised('b', ['a', 'd'])).toEqual([]);
    c.advertised('a', ['b']);
    c.advertised('b', ['a']);
    expect(c.covered).toBe(true);
    expect(c.advertised('zzz', ['q'])).toEqual([]);
  });

  it('a draining instance stops counting and is not wanted again, even while peers still name it', () => {
    const c = new Coverage(16);
    c.opened('a', ['b', 'c']);
    c.opened('b', ['a', 'c']);
    c.opened('c', ['a', 'b']);
    c.draining('a');
    expect(c.attached).toEqual(['b', 'c']);
    expect(c.wanted).toEqual(['b', 'c']);
    expect(c.covered).toBe(true);
    // Its replacement is a new instance id: wanted again at once.
    expect(c.advertised('b', ['a', 'c', 'a2'])).toEqual(['a2']);
    expect(c.covered).toBe(false);
    expect(c.opened('a2', ['b', 'c'])).toBe('keep');
    expect(c.covered).toBe(true);
  });

  it('a lost session is replaced: the instance stays wanted while advertised', () => {
    const c = new Coverage(16);
    c.opened('a', ['b']);
    c.opened('b', ['a']);
    c.lost('a');
    expect(c.covered).toBe(false);
    expect(c.wanted).toEqual(['a', 'b']);
    expect(c.opened('a', ['b'])).toBe('keep');
    // Losing every session: one is wanted again (the load balancer picks which).
    c.lost('a');
    c.lost('b');
    expect(c.target).toBe(1);
    expect(c.covered).toBe(false);
  });
});
