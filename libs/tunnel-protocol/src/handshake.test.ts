import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bearer, checkBearer } from './auth.ts';
import { HandshakeError } from './errors.ts';
import { PROTOCOL_VERSION } from './frame.ts';
import {
  HELLO_HEADER,
  HELLO_LIMITS,
  TUNNEL_PATH,
  decodeHello,
  decodeWelcome,
  encodeHello,
  encodeWelcome,
  isValidHostname,
  type Hello,
  type Welcome,
} from './handshake.ts';
import { checkUpgradeRequest, type UpgradeRequestLike } from './upgrade.ts';

const hello: Hello = {
  version: PROTOCOL_VERSION,
  clientId: 'edge-1.local',
  hostnames: ['app.example.com', '*.dev.example.com'],
  tcpPorts: [5432, 2222],
  capabilities: ['tcp', 'ws-upgrade'],
};

const welcome: Welcome = {
  version: PROTOCOL_VERSION,
  instanceId: 'exit-a',
  sessionId: 's-123',
  limits: {
    maxFrameBytes: 65536,
    maxHeaderBytes: 16384,
    streamWindow: 262144,
    maxStreams: 1024,
    pingIntervalMs: 10000,
    idleTimeoutMs: 30000,
  },
};

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8').toString('base64url');

function helloError(value: string | undefined, serverVersion?: number): HandshakeError {
  try {
    decodeHello(value, serverVersion);
  } catch (e) {
    expect(e).toBeInstanceOf(HandshakeError);
    return e as HandshakeError;
  }
  throw new Error('expected decodeHello to throw');
}

describe('hello / welcome', () => {
  it('round trips a hello', () => {
    expect(decodeHello(encodeHello(hello))).toEqual(hello);
    const minimal: Hello = { version: PROTOCOL_VERSION, clientId: 'a', hostnames: [], tcpPorts: [], capabilities: [] };
    expect(decodeHello(encodeHello(minimal))).toEqual(minimal);
    const weighted: Hello = { ...minimal, weight: 2 };
    expect(decodeHello(encodeHello(weighted))).toEqual(weighted);
  });

  it('carries the process nonce, and refuses a malformed one', () => {
    const withNonce: Hello = { ...hello, nonce: 'AbCdEfGhIjKlMnOp_-0123' };
    expect(decodeHello(encodeHello(withNonce))).toEqual(withNonce);
    for (const nonce of ['short', 'x'.repeat(65), 'has spaces in it 0123', 42]) {
      expect(helloError(b64({ ...hello, nonce })).message).toMatch(/nonce must be 16-64 characters of base64url/);
    }
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

  it('encodes as base64url safe in a header', () => {
    expect(encodeHello(hello)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeWelcome(welcome)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('round trips a welcome', () => {
    expect(decodeWelcome(encodeWelcome(welcome))).toEqual(welcome);
  });

  it('round trips a welcome naming its live peers', () => {
    const withPeers: Welcome = { ...welcome, peers: ['exit-b', 'exit-c'] };
    expect(decodeWelcome(encodeWelcome(withPeers))).toEqual(withPeers);
  });

  it('rejects a malformed welcome with TUN_ERR_BAD_WELCOME', () => {
    const bad = [
      b64({ ...welcome, peers: 'exit-b' }),
      b64({ ...welcome, peers: ['ok', 'bad id'] }),
      b64({ ...welcome, peers: ['x', 'x'] }),
      b64({ ...welcome, peers: Array.from({ length: 65 }, (_, i) => `p${i}`) }),
      undefined,
      '',
      '!!',
      b64('[]'),
      b64({ ...welcome, version: 99 }),
      b64({ ...welcome, sessionId: 1 }),
      b64({ ...welcome, limits: undefined }),
      b64({ ...welcome, limits: { ...welcome.limits, streamWindow: -1 } }),
      b64({ ...welcome, limits: { ...welcome.limits, maxStreams: 1.5 } }),
    ];
    for (const v of bad) {
      try {
        decodeWelcome(v);
        throw new Error(`accepted ${v}`);
      } catch (e) {
        expect(e).toBeInstanceOf(HandshakeError);
        expect((e as HandshakeError).code).toBe('TUN_ERR_BAD_WELCOME');
      }
    }
  });

  it('426 on version mismatch naming both versions', () => {
    const e = helloError(encodeHello({ ...hello, version: 7 }));
    expect(e.status).toBe(426);
    expect(e.code).toBe('TUN_ERR_VERSION_MISMATCH');
    expect(e.message).toContain('v7');
    expect(e.message).toContain(`v${PROTOCOL_VERSION}`);
    const e2 = helloError(encodeHello(hello), 3);
    expect(e2.status).toBe(426);
    expect(e2.message).toContain(`v${PROTOCOL_VERSION}`);
    expect(e2.message).toContain('v3');
  });

  const badHellos: Array<[string, string | undefined]> = [
    ['missing', undefined],
    ['empty', ''],
    ['not base64url', 'abc$def'],
    ['padding chars', b64(hello) + '=='],
    [
      'standard base64 chars',
      Buffer.from(JSON.stringify(hello))
        .toString('base64')
        .replace(/[A-Za-z0-9]/g, '') + '+/',
    ],
    ['not JSON', b64('{nope')],
    ['JSON array', b64([1, 2])],
    ['JSON null', b64('null')],
    ['JSON string', b64('"x"')],
    ['JSON number', b64('1')],
    ['oversize', 'A'.repeat(HELLO_LIMITS.maxEncodedBytes + 1)],
    ['__proto__ key', b64(`{"version":1,"clientId":"a","hostnames":[],"tcpPorts":[],"capabilities":[],"__proto__":{"polluted":true}}`)],
    ['constructor key', b64({ ...hello, constructor: { prototype: { polluted: true } } })],
    ['unknown field', b64({ ...hello, admin: true })],
    ['version string', b64({ ...hello, version: '1' })],
    ['version 0', b64({ ...hello, version: 0 })],
    ['version float', b64({ ...hello, version: 1.5 })],
    ['clientId missing', b64({ ...hello, clientId: undefined })],
    ['clientId empty', b64({ ...hello, clientId: '' })],
    ['clientId too long', b64({ ...hello, clientId: 'a'.repeat(129) })],
    ['clientId with space', b64({ ...hello, clientId: 'a b' })],
    ['clientId starts with dot', b64({ ...hello, clientId: '.a' })],
    ['hostnames not array', b64({ ...hello, hostnames: 'a.com' })],
    ['hostnames too many', b64({ ...hello, hostnames: Array.from({ length: 65 }, (_, i) => `h${i}.com`) })],
    ['hostname number', b64({ ...hello, hostnames: [1] })],
    ['hostname upper-case', b64({ ...hello, hostnames: ['App.com'] })],
    ['hostname with port', b64({ ...hello, hostnames: ['a.com:80'] })],
    ['hostname with underscore', b64({ ...hello, hostnames: ['a_b.com'] })],
    ['hostname leading hyphen', b64({ ...hello, hostnames: ['-a.com'] })],
    ['hostname double wildcard', b64({ ...hello, hostnames: ['*.*.a.com'] })],
    ['hostname label too long', b64({ ...hello, hostnames: [`${'a'.repeat(64)}.com`] })],
    ['hostname too long', b64({ ...hello, hostnames: [Array.from({ length: 60 }, () => 'abcd').join('.')] })],
    ['hostname empty', b64({ ...hello, hostnames: [''] })],
    ['hostname trailing dot', b64({ ...hello, hostnames: ['a.com.'] })],
    ['hostname __proto__', b64({ ...hello, hostnames: ['__proto__'] })],
    ['duplicate hostname', b64({ ...hello, hostnames: ['a.com', 'a.com'] })],
    ['tcpPorts not array', b64({ ...hello, tcpPorts: {} })],
    ['tcpPorts too many', b64({ ...hello, tcpPorts: Array.from({ length: 65 }, (_, i) => i + 1) })],
    ['tcp port 0', b64({ ...hello, tcpPorts: [0] })],
    ['tcp port 65536', b64({ ...hello, tcpPorts: [65536] })],
    ['tcp port string', b64({ ...hello, tcpPorts: ['80'] })],
    ['duplicate tcp port', b64({ ...hello, tcpPorts: [80, 80] })],
    ['capabilities huge', b64({ ...hello, capabilities: Array.from({ length: 1000 }, () => 'x') })],
    ['capability upper-case', b64({ ...hello, capabilities: ['TCP'] })],
    ['capability object', b64({ ...hello, capabilities: [{}] })],
    ['weight 0', b64({ ...hello, weight: 0 })],
    ['weight negative', b64({ ...hello, weight: -1 })],
    ['weight float', b64({ ...hello, weight: 1.5 })],
    ['weight string', b64({ ...hello, weight: '2' })],
    ['weight over the limit', b64({ ...hello, weight: HELLO_LIMITS.maxWeight + 1 })],
    ['deeply nested', b64(`${'['.repeat(3000)}${']'.repeat(3000)}`)],
  ];
  it.each(badHellos)('rejects hostile hello: %s with 400', (_name, value) => {
    const e = helloError(value);
    expect(e.status).toBe(400);
    expect(e.code).toBe('TUN_ERR_BAD_HELLO');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  function expectCleanRefusal(value: string | undefined): void {
    try {
      decodeHello(value);
    } catch (e) {
      expect(e).toBeInstanceOf(HandshakeError);
      const he = e as HandshakeError;
      if (he.code === 'TUN_ERR_VERSION_MISMATCH') expect(he.status).toBe(426);
      else {
        expect(he.code).toBe('TUN_ERR_BAD_HELLO');
        expect(he.status).toBe(400);
      }
      return;
    }
  }

  it('thousands of random JSON hellos give a clean HandshakeError or a valid hello', () => {
    const hostile = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          version: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.jsonValue()),
          clientId: fc.oneof(fc.string(), fc.jsonValue()),
          hostnames: fc.oneof(fc.array(fc.oneof(fc.domain(), fc.string(), fc.constant('__proto__'))), fc.jsonValue()),
          tcpPorts: fc.oneof(fc.array(fc.integer()), fc.jsonValue()),
          capabilities: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
          ['__proto__']: fc.jsonValue(),
          constructor: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(hostile, (v) => {
        const json = JSON.stringify(v) ?? 'undefined';
        expectCleanRefusal(Buffer.from(json).toString('base64url'));
      }),
      { numRuns: 3000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('thousands of random strings never crash decodeHello', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.base64String(), fc.string({ unit: 'binary', maxLength: 100 })), (s) => {
        expectCleanRefusal(s);
      }),
      { numRuns: 3000 },
    );
  });

  it('huge arrays are refused by the size limit', () => {
    const e = helloError(b64({ ...hello, hostnames: Array.from({ length: 5000 }, (_, i) => `h${i}.example.com`) }));
    expect(e.status).toBe(400);
    expect(e.message).toContain('longer than');
  });

  it('isValidHostname', () => {
    for (const ok of ['a', 'a.b', 'xn--bcher-kva.example', '*.example.com', '1.2.3.4', `${'a'.repeat(63)}.com`])
      expect(isValidHostname(ok)).toBe(true);
    for (const bad of ['', '*', '*.', 'a..b', 'A.com', 'a.com.', '-a', 'a-', `${'a'.repeat(64)}.com`, 'a b', 'a/b', '[::1]'])
      expect(isValidHostname(bad)).toBe(false);
  });
});

describe('checkBearer', () => {
  const token = 's3cret-token';
  it('accepts the right token', () => {
    expect(checkBearer(bearer(token), token)).toBe(true);
    expect(checkBearer(`Bearer ${token}`, token)).toBe(true);
  });
  it.each([
    ['wrong', 'Bearer nope'],
    ['prefix of token', `Bearer ${token.slice(0, 3)}`],
    ['token plus suffix', `Bearer ${token}x`],
    ['missing', undefined],
    ['empty', ''],
    ['empty bearer', 'Bearer '],
    ['Basic', `Basic ${Buffer.from(`user:${token}`).toString('base64')}`],
    ['Basic with raw token', `Basic ${token}`],
    ['no scheme', token],
    ['double space', `Bearer  ${token}`],
  ])('rejects %s', (_n, header) => {
    expect(checkBearer(header, token)).toBe(false);
  });
  it('an empty configured token matches nothing', () => {
    expect(checkBearer('Bearer ', '')).toBe(false);
    expect(checkBearer(undefined, '')).toBe(false);
  });
});

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
