import { describe, expect, it } from 'vitest';
import { HandshakeError, type Hello } from '@tunnel/tunnel-protocol';
import { tokenDigest, type ClientGrant } from '@tunnel/config';
import { admit, hostnameGranted } from './grants.ts';

const grant: ClientGrant = {
  id: 'pi-a',
  tokenDigests: [tokenDigest('a'.repeat(32))],
  hostnames: ['app.example.com', '*.a.example.com'],
  tcpPorts: [
    { from: 2222, to: 2222 },
    { from: 20000, to: 20010 },
  ],
  maxStreams: 8,
};
const ids = new Set(['pi-a', 'pi-b']);
const hello = (over: Partial<Hello> = {}): Hello => ({
  version: 2,
  clientId: 'pi-a',
  hostnames: ['app.example.com'],
  tcpPorts: [],
  capabilities: ['http'],
  ...over,
});

function denied(fn: () => unknown): HandshakeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('TUN_ERR_GRANT_DENIED');
    expect((err as HandshakeError).status).toBe(403);
    return err as HandshakeError;
  }
  throw new Error('expected a refusal');
}

describe('grants', () => {
  it('matches exact names, *. wildcards (any depth, and the wildcard itself) and *', () => {
    expect(hostnameGranted(['app.example.com'], 'app.example.com')).toBe(true);
    expect(hostnameGranted(['app.example.com'], 'x.app.example.com')).toBe(false);
    expect(hostnameGranted(['*.a.example.com'], 'x.a.example.com')).toBe(true);
    expect(hostnameGranted(['*.a.example.com'], 'y.x.a.example.com')).toBe(true);
    expect(hostnameGranted(['*.a.example.com'], '*.a.example.com')).toBe(true);
    expect(hostnameGranted(['*.a.example.com'], 'a.example.com')).toBe(false);
    expect(hostnameGranted(['*.a.example.com'], 'xa.example.com')).toBe(false);
    expect(hostnameGranted(['*'], 'anything.test')).toBe(true);
  });

  it('admits claims inside the grant, with the entry id and the grant stream cap', () => {
    const a = admit(
      hello({ clientId: 'kitchen-pi', hostnames: ['app.example.com', 'x.a.example.com'], tcpPorts: [2222, 20005] }),
      { kind: 'granted', grant },
      ids,
      1024,
    );
    expect(a.hello.clientId).toBe('pi-a');
    expect(a.declaredId).toBe('kitchen-pi');
    expect(a.maxStreams).toBe(8);
    expect(admit(hello(), { kind: 'granted', grant: { ...grant, maxStreams: 5000 } }, ids, 1024).maxStreams).toBe(1024);
  });

  it.each([
    [
      'a hostname outside the grant',
      hello({ hostnames: ['app.example.com', 'victim.example.com'] }),
      /may not serve hostname victim.example.com/,
    ],
    ['every host (default upstream) without "*"', hello({ hostnames: [] }), /may not serve every hostname/],
    ['a TCP port outside the grant', hello({ tcpPorts: [2222, 22] }), /may not claim TCP port 22/],
    ["another entry's id", hello({ clientId: 'pi-b' }), /id "pi-b" belongs to another client/],
  ])('refuses %s (whole hello, never half-accepted)', (_name, h, message) => {
    expect(denied(() => admit(h, { kind: 'granted', grant }, ids, 1024)).message).toMatch(message);
  });

  it('lets a TCP-only client declare no hostname', () => {
    expect(
      admit(hello({ hostnames: [], capabilities: ['tcp'], tcpPorts: [2222] }), { kind: 'granted', grant }, ids, 1024).hello.tcpPorts,
    ).toEqual([2222]);
  });

  it('trusts a shared-token client as declared, except for a tokens-file id', () => {
    const h = hello({ clientId: 'anyone', hostnames: ['victim.example.com'] });
    expect(admit(h, { kind: 'shared' }, ids, 1024).hello).toBe(h);
    expect(denied(() => admit(hello({ clientId: 'pi-a' }), { kind: 'shared' }, ids, 1024)).message).toMatch(
      /belongs to a tokens-file client/,
    );
  });
});
