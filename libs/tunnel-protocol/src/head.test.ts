import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitError, ProtocolError } from './errors.ts';
import { decodeOpenHead, decodeResponseHead, encodeOpenHead, encodeResponseHead, type OpenHead, type ResponseHead } from './head.ts';
import { SAMPLE_HTTP_HEAD } from './testing/sample-heads.ts';

/** A head as `u8 kind, u16 count, (u16 len, latin1 bytes)*`, written out by hand. */
function rawHead(kind: number, strings: readonly string[]): Buffer {
  const parts = [Buffer.from([kind, strings.length >> 8, strings.length & 0xff])];
  for (const s of strings) parts.push(Buffer.from([s.length >> 8, s.length & 0xff]), Buffer.from(s, 'latin1'));
  return Buffer.concat(parts);
}

describe('head codecs', () => {
  const latin1 = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  const openCases: Array<{ name: string; head: OpenHead }> = [
    { name: 'http basic', head: SAMPLE_HTTP_HEAD },
    { name: 'http latin1 target', head: { ...SAMPLE_HTTP_HEAD, method: 'GET', target: `/${latin1.replace(/[\s\0]/g, '')}` } },
    { name: 'http empty authority', head: { ...SAMPLE_HTTP_HEAD, authority: '', remoteAddress: '::1', remotePort: 0 } },
    { name: 'http IPv6 remote', head: { ...SAMPLE_HTTP_HEAD, remoteAddress: '2001:db8::1', remotePort: 65535 } },
    { name: 'tcp', head: { kind: 'tcp', port: 5432, remoteAddress: '198.51.100.1', remotePort: 40000, localAddress: '203.0.113.1' } },
    { name: 'tcp port 0 edges', head: { kind: 'tcp', port: 65535, remoteAddress: '', remotePort: 0, localAddress: '203.0.113.1' } },
  ];
  it.each(openCases)('OPEN $name', ({ head }) => {
    expect(decodeOpenHead(encodeOpenHead(head))).toEqual(head);
  });

  const replyCases: Array<{ name: string; head: ResponseHead }> = [
    { name: 'plain 200', head: { status: 200, statusMessage: '' } },
    { name: 'custom reason', head: { status: 418, statusMessage: "I'm a teapot" } },
    { name: 'latin1', head: { status: 200, statusMessage: 'Ok\u00e9' } },
    { name: '101', head: { status: 101, statusMessage: 'Switching Protocols' } },
    { name: 'status 999', head: { status: 999, statusMessage: '' } },
  ];
  it.each(replyCases)('REPLY $name', ({ head }) => {
    expect(decodeResponseHead(encodeResponseHead(head))).toEqual(head);
  });

  it('writes the version-2 bytes: the fixed fields and an empty header list', () => {
    expect(
      encodeOpenHead(SAMPLE_HTTP_HEAD).equals(rawHead(1, ['POST', '/a/b?c=d&e=%20f', 'app.example.com:8443', '203.0.113.7', '51234'])),
    ).toBe(true);
    expect(encodeResponseHead({ status: 204, statusMessage: 'No Content' }).equals(rawHead(1, ['204', 'No Content']))).toBe(true);
  });

  it('accepts and ignores header pairs after the fixed fields (a version-2 peer may send them)', () => {
    const pairs = ['X-Latin1', latin1, 'X-Empty', '', 'set-cookie', 'a=1', 'Set-Cookie', 'b=2'];
    const open = rawHead(1, ['POST', '/a/b?c=d&e=%20f', 'app.example.com:8443', '203.0.113.7', '51234', ...pairs]);
    expect(decodeOpenHead(open)).toEqual(SAMPLE_HTTP_HEAD);
    expect(decodeResponseHead(rawHead(1, ['302', 'Found', ...pairs]))).toEqual({ status: 302, statusMessage: 'Found' });
  });

  it('latin1 strings travel as one byte per char', () => {
    const enc = encodeResponseHead({ status: 200, statusMessage: '\u00ff' });
    expect(enc.includes(Buffer.from([0xff]))).toBe(true);
  });

  it('round trips arbitrary latin1 heads (property)', () => {
    const latin1Str = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 999 }), latin1Str, (status, msg) => {
        const head: ResponseHead = { status, statusMessage: msg };
        expect(decodeResponseHead(encodeResponseHead(head))).toEqual(head);
      }),
      { numRuns: 300 },
    );
  });

  const badOpen: Array<[string, Buffer]> = [
    ['too short', Buffer.from([1, 0])],
    ['unknown kind', Buffer.from([9, 0, 0])],
    ['truncated length', Buffer.from([1, 0, 1, 0])],
    ['truncated string', Buffer.from([1, 0, 1, 0, 5, 65])],
    ['trailing bytes', Buffer.concat([encodeOpenHead(SAMPLE_HTTP_HEAD), Buffer.from([0])])],
    ['http with too few fields', encodeResponseHead({ status: 200, statusMessage: '' })],
    ['http with an odd header list', rawHead(1, ['GET', '/', 'a.test', '1.2.3.4', '1', 'x'])],
    ['bad method', encodeOpenHead({ ...SAMPLE_HTTP_HEAD, method: 'GE T' })],
    ['empty target', encodeOpenHead({ ...SAMPLE_HTTP_HEAD, target: '' })],
    ['target with space', encodeOpenHead({ ...SAMPLE_HTTP_HEAD, target: '/a b' })],
    ['bad remote port', encodeOpenHead({ ...SAMPLE_HTTP_HEAD, remotePort: 70000 })],
    ['tcp with 2 fields', Buffer.from([2, 0, 0])],
    ['tcp bad port', encodeOpenHead({ kind: 'tcp', port: -1, remoteAddress: 'x', remotePort: 1, localAddress: '203.0.113.1' })],
  ];
  it.each(badOpen)('rejects OPEN head: %s', (_name, buf) => {
    expect(() => decodeOpenHead(buf)).toThrow(ProtocolError);
  });

  const badReply: Array<[string, Buffer]> = [
    ['odd header list', rawHead(1, ['200', '', 'a'])],
    ['status 99', encodeResponseHead({ status: 99, statusMessage: '' })],
    ['status 1000', encodeResponseHead({ status: 1000, statusMessage: '' })],
    ['tcp kind', encodeOpenHead({ kind: 'tcp', port: 1, remoteAddress: 'x', remotePort: 1, localAddress: '203.0.113.1' })],
    ['empty', Buffer.alloc(0)],
  ];
  it.each(badReply)('rejects REPLY head: %s', (_name, buf) => {
    expect(() => decodeResponseHead(buf)).toThrow(ProtocolError);
  });

  it('refuses to encode a single string longer than 64 KiB', () => {
    const err = (() => {
      try {
        encodeResponseHead({ status: 200, statusMessage: 'y'.repeat(0x10000) });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).code).toBe('TUN_ERR_HEADERS_TOO_LARGE');
  });

  it('random bytes never throw anything but a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const decode of [decodeOpenHead, decodeResponseHead]) {
          try {
            decode(Buffer.from(bytes));
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
