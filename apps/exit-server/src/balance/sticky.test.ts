import { describe, expect, it } from 'vitest';
import { StickyCookies, STICKY_SECRET_MIN_BYTES } from './sticky.ts';

const client = (clientId: string) => ({ hello: { clientId } });
const SECRET = Buffer.from('a-test-secret-of-32-bytes-length');

describe('StickyCookies', () => {
  it('names a client by an opaque value that only the secret can make', () => {
    const sticky = new StickyCookies('lb', SECRET);
    const v = sticky.valueFor('pi-1');
    expect(v).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(v).not.toContain('pi-1');
    expect(sticky.valueFor('pi-1')).toBe(v); // stable: survives reconnects and is shared by servers with the secret
    expect(sticky.valueFor('pi-2')).not.toBe(v);
    expect(new StickyCookies('lb', Buffer.from('another-secret-32-bytes-long-xxx')).valueFor('pi-1')).not.toBe(v);
  });

  it('finds connected clients by value and ignores forged or stale ones', () => {
    const sticky = new StickyCookies<ReturnType<typeof client>>('lb', SECRET);
    const a = client('pi-1');
    const b = client('pi-2');
    sticky.add(a);
    sticky.add(b);
    expect(sticky.clientsFor(sticky.valueFor('pi-1'))).toEqual([a]);
    expect(sticky.valueOfClient(b)).toBe(sticky.valueFor('pi-2'));
    expect(sticky.clientsFor('pi-1')).toEqual([]);
    expect(sticky.clientsFor('AAAAAAAAAAAAAAAAAAAAAA')).toEqual([]);
    sticky.remove(a);
    expect(sticky.clientsFor(sticky.valueFor('pi-1'))).toEqual([]);
    sticky.remove(a);
  });

  it('reads its cookie among others, in any Cookie header', () => {
    const sticky = new StickyCookies('lb', SECRET);
    expect(sticky.valueIn(['Host', 'x', 'Cookie', 'a=1; lb=abc; b=2'])).toBe('abc');
    expect(sticky.valueIn(['cookie', 'a=1', 'COOKIE', 'lb=xyz'])).toBe('xyz');
    expect(sticky.valueIn(['Cookie', 'xlb=1; lbx=2'])).toBeUndefined();
    expect(sticky.valueIn(['X-Cookie', 'lb=1'])).toBeUndefined();
    expect(sticky.valueIn([])).toBeUndefined();
  });

  it('adds Set-Cookie before the blank line of a response head', () => {
    const sticky = new StickyCookies('lb', SECRET);
    const head = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n');
    expect(sticky.withCookie(head, 'v').toString()).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nSet-Cookie: lb=v; Path=/; HttpOnly; SameSite=Lax\r\n\r\n',
    );
  });

  it('refuses a short secret', () => {
    expect(() => new StickyCookies('lb', Buffer.alloc(STICKY_SECRET_MIN_BYTES - 1))).toThrow(RangeError);
  });
});
