import { describe, expect, it } from 'vitest';
import { tokenDigest } from '@tunnel/config';
import { Credentials } from './credentials.ts';

const S1 = 'shared-token-one-0123456789abcdefghij';
const S2 = 'shared-token-two-0123456789abcdefghij';
const A = 'token-of-pi-a-0123456789abcdefghijkl';
const grant = { id: 'pi-a', tokenDigests: [tokenDigest(A)], hostnames: ['a.test'], tcpPorts: [], maxStreams: undefined };

describe('Credentials', () => {
  it('accepts every shared token (rotation overlap) and tokens-file tokens as their entry', () => {
    const c = new Credentials([S1, S2], [grant]);
    expect(c.identify(`Bearer ${S1}`)).toEqual({ kind: 'shared' });
    expect(c.identify(`Bearer ${S2}`)).toEqual({ kind: 'shared' });
    expect(c.identify(`Bearer ${A}`)).toEqual({ kind: 'granted', grant });
    for (const h of [undefined, '', 'Bearer ', `Basic ${S1}`, S1, `Bearer ${S1}x`]) expect(c.identify(h)).toBeUndefined();
    expect(c.grantedIds).toEqual(new Set(['pi-a']));
  });

  it('tells whether a connected client is still valid after a reload', () => {
    const after = new Credentials([S2], [{ ...grant, tokenDigests: [tokenDigest(`${A}-new`)] }]);
    expect(after.stillValid({ kind: 'shared' }, tokenDigest(S1))).toBe(false);
    expect(after.stillValid({ kind: 'shared' }, tokenDigest(S2))).toBe(true);
    expect(after.stillValid({ kind: 'granted', grant }, tokenDigest(A))).toBe(false);
    expect(new Credentials([], []).stillValid({ kind: 'granted', grant }, tokenDigest(A))).toBe(false);
  });
});
