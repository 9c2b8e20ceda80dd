import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandshakeError } from './errors.ts';
import { PROTOCOL_VERSION } from './frame.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import {
  HELLO_LIMITS,
  WELCOME_LIMIT_BOUNDS,
  clientLimits,
  decodeHello,
  decodeWelcome,
  encodeHello,
  encodeWelcome,
  isValidHostname,
  type Hello,
  type Welcome,
} from './handshake.ts';

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

  it.each([
    ['maxFrameBytes', 0],
    ['maxFrameBytes', 1023],
    ['maxFrameBytes', 16 * 1024 * 1024 + 1],
    ['maxHeaderBytes', 0],
    ['maxHeaderBytes', 2 ** 31],
    ['streamWindow', 0],
    ['streamWindow', 2 ** 31],
    ['maxStreams', 0],
    ['maxStreams', 65536],
    ['pingIntervalMs', 2 ** 31 + 1],
  ])('refuses a welcome whose %s is %i: TUN_ERR_BAD_WELCOME naming the limit', (key, value) => {
    const absurd = b64({ ...welcome, limits: { ...welcome.limits, [key]: value } });
    expect(() => decodeWelcome(absurd)).toThrow(
      expect.objectContaining({ code: 'TUN_ERR_BAD_WELCOME', message: expect.stringContaining(key) }),
    );
  });

  it('accepts every limit at both ends of its bound', () => {
    for (const end of ['min', 'max'] as const) {
      const limits = Object.fromEntries(Object.entries(WELCOME_LIMIT_BOUNDS).map(([k, b]) => [k, b[end]]));
      expect(decodeWelcome(b64({ ...welcome, limits })).limits).toEqual(limits);
    }
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

describe('clientLimits', () => {
  it("takes the welcome's limits, the client's own keep-alive and queue settings when given, the defaults for the rest", () => {
    const { pingIntervalMs, idleTimeoutMs, ...shared } = welcome.limits;
    expect(clientLimits(welcome)).toEqual({ ...DEFAULT_LIMITS, ...shared, pingIntervalMs, idleTimeoutMs });
    const own = { pingIntervalMs: 1500, idleTimeoutMs: 4500, maxQueuedReplies: 7 };
    expect(clientLimits(welcome, own)).toEqual({ ...DEFAULT_LIMITS, ...shared, ...own });
  });
});
