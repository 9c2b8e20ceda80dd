import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bearer } from './auth.ts';
import { HandshakeError } from './errors.ts';
import { PROTOCOL_VERSION } from './frame.ts';
import { HELLO_HEADER, TUNNEL_PATH, encodeHello, type Hello } from './handshake.ts';
import { checkUpgradeRequest, type UpgradeRequestLike } from './upgrade.ts';

const hello: Hello = {
  version: PROTOCOL_VERSION,
  clientId: 'edge-1.local',
  hostnames: ['app.example.com'],
  tcpPorts: [5432],
  capabilities: ['tcp'],
};

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');

describe('checkUpgradeRequest', () => {
  const token = 'tok-9f8e7d6c5b4a';
  const good = (
    over: Partial<UpgradeRequestLike> = {},
    headers: Record<string, string | string[] | undefined> = {},
  ): UpgradeRequestLike => ({
    method: 'GET',
    url: TUNNEL_PATH,
    ...over,
    headers: { upgrade: 'websocket', connection: 'Upgrade', authorization: bearer(token), [HELLO_HEADER]: encodeHello(hello), ...headers },
  });

  it('accepts a good request and returns the hello', () => {
    const r = checkUpgradeRequest(good(), token);
    expect(r).toEqual({ ok: true, hello });
    expect(checkUpgradeRequest(good({ url: `${TUNNEL_PATH}?x=1` }, { upgrade: 'WebSocket' }), token).ok).toBe(true);
  });

  it('accepts a bearer check function instead of one token', () => {
    const seen: Array<string | undefined> = [];
    const req = {
      method: 'GET',
      url: TUNNEL_PATH,
      headers: { upgrade: 'websocket', authorization: 'Bearer abc', [HELLO_HEADER]: encodeHello(hello) },
    };
    expect(checkUpgradeRequest(req, (h) => (seen.push(h), true)).ok).toBe(true);
    expect(seen).toEqual(['Bearer abc']);
    const refused = checkUpgradeRequest(req, () => false);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error.status).toBe(401);
  });

  const cases: Array<[string, UpgradeRequestLike, number, string]> = [
    ['wrong method', good({ method: 'POST' }), 405, 'TUN_ERR_BAD_UPGRADE'],
    ['no method', good({ method: undefined }), 405, 'TUN_ERR_BAD_UPGRADE'],
    ['wrong path', good({ url: '/' }), 404, 'TUN_ERR_BAD_UPGRADE'],
    ['path prefix', good({ url: `${TUNNEL_PATH}/x` }), 404, 'TUN_ERR_BAD_UPGRADE'],
    ['no url', good({ url: undefined }), 404, 'TUN_ERR_BAD_UPGRADE'],
    ['not an upgrade', good({}, { upgrade: undefined }), 400, 'TUN_ERR_BAD_UPGRADE'],
    ['h2c upgrade', good({}, { upgrade: 'h2c' }), 400, 'TUN_ERR_BAD_UPGRADE'],
    ['no token', good({}, { authorization: undefined }), 401, 'TUN_ERR_AUTH'],
    ['wrong token', good({}, { authorization: 'Bearer wrong' }), 401, 'TUN_ERR_AUTH'],
    ['Basic auth', good({}, { authorization: `Basic ${token}` }), 401, 'TUN_ERR_AUTH'],
    ['repeated authorization', good({}, { authorization: [bearer(token), bearer(token)] }), 401, 'TUN_ERR_AUTH'],
    ['bad token AND bad hello', good({}, { authorization: 'Bearer x', [HELLO_HEADER]: '%%%' }), 401, 'TUN_ERR_AUTH'],
    [
      'no token AND version mismatch',
      good({}, { authorization: undefined, [HELLO_HEADER]: encodeHello({ ...hello, version: 99 }) }),
      401,
      'TUN_ERR_AUTH',
    ],
    ['good token, missing hello', good({}, { [HELLO_HEADER]: undefined }), 400, 'TUN_ERR_BAD_HELLO'],
    ['good token, bad hello', good({}, { [HELLO_HEADER]: b64({ x: 1 }) }), 400, 'TUN_ERR_BAD_HELLO'],
    ['good token, version mismatch', good({}, { [HELLO_HEADER]: encodeHello({ ...hello, version: 99 }) }), 426, 'TUN_ERR_VERSION_MISMATCH'],
  ];
  it.each(cases)('%s', (_n, req, status, code) => {
    const r = checkUpgradeRequest(req, token);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(HandshakeError);
    expect(r.error.status).toBe(status);
    expect(r.error.code).toBe(code);
    expect(r.error.message).not.toContain(token);
  });

  it('random/malformed requests never throw, never echo the token, and need a valid bearer before the hello', () => {
    const maybeStr = fc.oneof(fc.string(), fc.constant(undefined), fc.array(fc.string(), { maxLength: 3 }));
    const reqArb = fc.record({
      method: fc.oneof(fc.constant('GET'), fc.string(), fc.constant(undefined)),
      url: fc.oneof(fc.constant(TUNNEL_PATH), fc.constant(`${TUNNEL_PATH}?${token}`), fc.string(), fc.constant(undefined)),
      upgrade: fc.oneof(fc.constant('websocket'), maybeStr),
      authorization: fc.oneof(fc.constant(bearer(token)), fc.constant(`Bearer ${token}x`), fc.constant(token), maybeStr),
      hello: fc.oneof(
        fc.constant(encodeHello(hello)),
        fc.constant(b64({ token })),
        maybeStr,
        fc.jsonValue().map((v) => b64(JSON.stringify(v) ?? '0')),
      ),
      extra: fc.dictionary(fc.string(), maybeStr, { maxKeys: 4 }),
    });
    fc.assert(
      fc.property(reqArb, (r) => {
        const req: UpgradeRequestLike = {
          method: r.method,
          url: r.url,
          headers: { ...r.extra, upgrade: r.upgrade, authorization: r.authorization, [HELLO_HEADER]: r.hello },
        };
        const res = checkUpgradeRequest(req, token);
        if (res.ok) {
          expect(r.authorization).toBe(bearer(token));
          return;
        }
        expect(res.error).toBeInstanceOf(HandshakeError);
        expect([400, 401, 404, 405, 426]).toContain(res.error.status);
        expect(res.error.message).not.toContain(token);
        const authOk = r.authorization === bearer(token);
        if (!authOk && res.error.status !== 405 && res.error.status !== 404 && res.error.code !== 'TUN_ERR_BAD_UPGRADE') {
          expect(res.error.status).toBe(401);
        }
        if (res.error.status === 426 || res.error.code === 'TUN_ERR_BAD_HELLO') expect(authOk).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws even for structurally broken requests', () => {
    const broken = [
      { headers: {} },
      { method: 'GET', url: TUNNEL_PATH, headers: { upgrade: 5 } },
      { method: 'GET', url: 5, headers: {} },
      { method: 'GET', url: TUNNEL_PATH, headers: null },
      { method: 'GET', url: TUNNEL_PATH, headers: { upgrade: 'websocket', authorization: bearer(token), [HELLO_HEADER]: 42 } },
    ] as unknown as UpgradeRequestLike[];
    for (const req of broken) {
      const r = checkUpgradeRequest(req, token);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(HandshakeError);
        expect(r.error.message).not.toContain(token);
      }
    }
  });
});
