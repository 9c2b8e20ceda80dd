import { describe, expect, it } from 'vitest';
import { HttpError } from '@tunnel/tunnel-protocol';
import { ChunkedScanner } from './chunked.ts';
import { forwardRequestHead, forwardResponseHead } from './forward-head.ts';
import { parseRequestHead, parseResponseHead } from './head.ts';

const b = (s: string) => Buffer.from(s, 'latin1');
const facts = { remoteAddress: '203.0.113.7', clientAddress: '203.0.113.7', proto: 'http', host: 'a', trustProxy: false };

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return (err as HttpError).status;
  }
  return undefined;
}

describe('framing headers are read strictly (the review probes and their kin)', () => {
  const framing = [
    'Content-Length: \x0b5',
    'Content-Length: 5\x0b',
    'Content-Length: \xa05',
    'Content-Length: 5\xa0',
    'Content-Length: \x0c5',
    'Content-Length: 5, 5',
    'Content-Length: 5,5',
    'Content-Length: 5\r\nContent-Length: 5',
    'Content-Length: +5',
    'Content-Length: 5 5',
    'Transfer-Encoding: chunked,',
    'Transfer-Encoding: ,chunked',
    'Transfer-Encoding: chunked\x0b',
    'Transfer-Encoding: \x0bchunked',
    'Transfer-Encoding: chunked\xa0',
    'Transfer-Encoding: \xa0chunked',
    'Transfer-Encoding: chunked;q=1',
    'Transfer-Encoding: "chunked"',
    'Transfer-Encoding: chunked, chunked',
  ];

  it.each(framing)('request with %j: 400 (or 501), never a body framing', (field) => {
    const status = statusOf(() => parseRequestHead(b(`POST / HTTP/1.1\r\nHost: a\r\n${field}`)));
    expect([400, 501]).toContain(status);
  });

  it.each(framing)('response with %j: 502', (field) => {
    expect(statusOf(() => parseResponseHead(b(`HTTP/1.1 200 OK\r\n${field}`), 'GET'))).toBe(502);
  });

  it('still accepts SP and HTAB around values', () => {
    expect(parseRequestHead(b('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t5 \t')).framing).toEqual({ kind: 'length', length: 5 });
    expect(parseRequestHead(b('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked\t')).framing).toEqual({ kind: 'chunked' });
  });

  it('refuses a response where chunked is not the last coding', () => {
    expect(statusOf(() => parseResponseHead(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip'), 'GET'))).toBe(502);
  });
});

describe('a response with both Content-Length and Transfer-Encoding (RFC 9112 6.3)', () => {
  it('is framed as chunked and forwarded without Content-Length', () => {
    const raw = b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n');
    const head = parseResponseHead(raw.subarray(0, raw.length - 4), 'GET');
    expect(head.framing).toEqual({ kind: 'chunked' });
    const out = forwardResponseHead(head, raw).toString('latin1');
    expect(out).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n');
  });

  it('is close-delimited and still loses Content-Length when the last coding is not chunked', () => {
    const raw = b('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n');
    const head = parseResponseHead(raw.subarray(0, raw.length - 4), 'GET');
    expect(head.framing).toEqual({ kind: 'close' });
    expect(forwardResponseHead(head, raw).toString('latin1')).not.toMatch(/content-length/i);
  });
});

describe('trailers', () => {
  const fail = (d: string) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d);
  it.each([
    ['0\r\nX: 1\r\n folded\r\n\r\n', 'obs-fold'],
    ['0\r\nX: 1\r\n\tfolded\r\n\r\n', 'obs-fold'],
    ['0\r\nX: a\x01b\r\n\r\n', 'control'],
    ['0\r\nX: a\x7fb\r\n\r\n', 'control'],
    ['0\r\nX: a\x0bb\r\n\r\n', 'control'],
    ['0\r\nX : 1\r\n\r\n', 'bad trailer line'],
    ['0\r\n: 1\r\n\r\n', 'bad trailer line'],
    ['0\r\nno-colon\r\n\r\n', 'bad trailer line'],
  ])('refuses %j (%s)', (input, message) => {
    expect(() => new ChunkedScanner(1024, fail).scan(b(input), 0)).toThrow(message);
  });

  it('accepts well-formed trailers', () => {
    const input = '0\r\nX-Sum: abc def\r\nY:\t1\r\n\r\n';
    expect(new ChunkedScanner(1024, fail).scan(b(input), 0)).toBe(input.length);
  });
});

describe('Host (RFC 9112 3.2: an invalid value is a 400)', () => {
  const head = (host: string) => b(`GET / HTTP/1.1\r\nHost: ${host}`);
  it.each([
    'a b',
    'a/b',
    'a.example/x?y',
    'user@a.example',
    'a.example:80x',
    'a.example:123456',
    '[::1',
    '[::1]x',
    'a\\b',
    'a,b',
    'a%2fb',
    '"a"',
  ])('refuses Host %j', (host) => {
    expect(statusOf(() => parseRequestHead(head(host)))).toBe(400);
  });

  it.each([
    ['a.example', 'a.example'],
    ['A.Example:8000', 'a.example:8000'],
    ['a.example.', 'a.example.'],
    ['[::1]:8000', '[::1]:8000'],
    ['127.0.0.1', '127.0.0.1'],
    ['under_score.example', 'under_score.example'],
    ['', ''],
  ])('accepts Host %j (authority %j)', (host, authority) => {
    expect(parseRequestHead(head(host)).authority).toBe(authority);
  });
});

describe('header names with "_"', () => {
  const h = parseRequestHead(b('GET / HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 6.6.6.6\r\nX-Ok: 1\r\nUser_Agent: x'));

  it('are dropped by default', () => {
    const out = forwardRequestHead(h, facts).toString('latin1');
    expect(out).not.toContain('_');
    expect(out).toContain('X-Ok: 1\r\n');
  });

  it('are kept with --allow-underscore-headers', () => {
    expect(forwardRequestHead(h, facts, { allowUnderscoreHeaders: true }).toString('latin1')).toContain('X_Forwarded_For: 6.6.6.6\r\n');
  });
});

describe('request targets', () => {
  it('rewrites an absolute-form target to origin form, routed and re-headed by its authority', () => {
    const h = parseRequestHead(b('GET http://Victim.Test:8000/p?q=1 HTTP/1.1\r\nHost: attacker.test\r\nX-A: 1'));
    expect(h).toMatchObject({ target: '/p?q=1', authority: 'victim.test:8000', absoluteForm: true });
    const out = forwardRequestHead(h, { ...facts, host: h.authority }).toString('latin1');
    expect(out.startsWith('GET /p?q=1 HTTP/1.1\r\nHost: victim.test:8000\r\n')).toBe(true);
    expect(out).not.toContain('attacker.test');
  });

  it.each([
    ['http://a', '/'],
    ['HTTPS://a/x', '/x'],
    ['http://a?x=1', '/?x=1'],
    ['http://[::1]:80/x', '/x'],
  ])('%s goes on as %s', (target, path) => {
    expect(parseRequestHead(b(`GET ${target} HTTP/1.1\r\nHost: a`)).target).toBe(path);
  });

  it('adds Host for an HTTP/1.0 absolute-form request without one', () => {
    const h = parseRequestHead(b('GET http://a.test/ HTTP/1.0'));
    expect(forwardRequestHead(h, facts).toString('latin1')).toContain('\r\nHost: a.test\r\n');
  });

  it.each(['http://user@a/', 'http:///x', 'ftp://a/', 'a.test:80', 'x', 'http://a/#frag', 'http://a%2e/'])(
    'refuses %s with 400',
    (target) => {
      expect(statusOf(() => parseRequestHead(b(`GET ${target} HTTP/1.1\r\nHost: a`)))).toBe(400);
    },
  );

  it.each([
    ['/p#frag', 400],
    ['/p?q=1#frag', 400],
    ['/#', 400],
    ['http://a/p#frag', 400],
    ['http://a#frag', 400],
    ['/caf\xe9', 400],
    ['/\xc3\xa9', 400],
    ['/a\x7fb', 400],
    ['/a\x00b', 400],
    ['/a\tb', 400],
  ])('refuses the target %j with %i (RFC 9112 3.2: no fragment, ASCII only, no controls)', (target, status) => {
    expect(statusOf(() => parseRequestHead(b(`GET ${target} HTTP/1.1\r\nHost: a`)))).toBe(status);
  });

  it.each(['/a?q={"x":[1]}|^`\\<>', '/%zz', '/a%2Fb?c=%e9', "/!$&'()*+,;=:@~-._"])('passes the target %j as it came', (target) => {
    expect(parseRequestHead(b(`GET ${target} HTTP/1.1\r\nHost: a`)).target).toBe(target);
  });

  it('allows * for OPTIONS only', () => {
    expect(parseRequestHead(b('OPTIONS * HTTP/1.1\r\nHost: a')).target).toBe('*');
    expect(statusOf(() => parseRequestHead(b('GET * HTTP/1.1\r\nHost: a')))).toBe(400);
  });
});
