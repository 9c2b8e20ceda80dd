import { describe, expect, it } from 'vitest';
import { HttpError } from '@tunnel/tunnel-protocol';
import { feedBorrowed, splitAt } from '@tunnel/tunnel-protocol/testing';
import { ChunkedScanner } from './chunked.ts';
import { forwardRequestHead, forwardResponseHead } from './forward-head.ts';
import { parseRequestHead, parseResponseHead, requestHeadTooLarge, type RequestHead, type ResponseHead } from './head.ts';
import { MessageReader } from './reader.ts';
import { trustedFacts } from './trusted-facts.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return (err as HttpError).status;
  }
  return undefined;
}

describe('parseRequestHead', () => {
  it('parses the request line, headers, Host and framing', () => {
    const h = parseRequestHead(
      b('POST /a?b=1 HTTP/1.1\r\nHost: App.Test:8000\r\nX-A:  one \r\nSet-Thing: 1\r\nSet-Thing: 2\r\nContent-Length: 5'),
    );
    expect(h).toMatchObject({
      method: 'POST',
      target: '/a?b=1',
      minor: 1,
      authority: 'app.test:8000',
      framing: { kind: 'length', length: 5 },
    });
    expect(h.rawHeaders).toEqual(['Host', 'App.Test:8000', 'X-A', 'one', 'Set-Thing', '1', 'Set-Thing', '2', 'Content-Length', '5']);
  });

  it.each([
    ['GET / HTTP/1.1\r\nHost: a', { kind: 'none' }],
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0', { kind: 'none' }],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked', { kind: 'chunked' }],
    ['GET / HTTP/1.0', { kind: 'none' }],
  ])('framing of %j', (head, framing) => {
    expect(parseRequestHead(b(head)).framing).toEqual(framing);
  });

  it('recognises an upgrade only when Connection names it', () => {
    expect(parseRequestHead(b('GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket')).upgrade).toBe(
      'websocket',
    );
    expect(parseRequestHead(b('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket')).upgrade).toBeUndefined();
  });

  it.each([
    ['NOT HTTP AT ALL', 400],
    ['GET /  HTTP/1.1\r\nHost: a', 400],
    ['GET / HTTP/1.1', 400], // no Host
    ['GET / HTTP/1.1\r\nHost: a\r\nHost: b', 400],
    ['GET / HTTP/2.0\r\nHost: a', 505],
    ['GET / HTTQ/1.1\r\nHost: a', 400],
    ['G(T / HTTP/1.1\r\nHost: a', 400],
    ['GET /a\x01b HTTP/1.1\r\nHost: a', 400],
    ['GET / HTTP/1.1\r\nHost : a', 400], // whitespace before the colon
    ['GET / HTTP/1.1\r\nHost: a\r\n folded', 400],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\nb', 400], // bare LF inside a line
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\x00', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked', 501],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity', 501],
    ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked', 400],
    ['CONNECT a:443 HTTP/1.1\r\nHost: a:443', 405],
    [`GET / HTTP/1.1\r\nHost: a${'\r\nX: 1'.repeat(300)}`, 431],
  ])('refuses %j with %i', (head, status) => {
    expect(statusOf(() => parseRequestHead(b(head)))).toBe(status);
  });
});

describe('parseResponseHead', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 3', 'GET', { kind: 'length', length: 3 }],
    ['HTTP/1.1 200 OK\r\nContent-Length: 3', 'HEAD', { kind: 'none' }],
    ['HTTP/1.1 204 No Content', 'GET', { kind: 'none' }],
    ['HTTP/1.1 304 Not Modified\r\nContent-Length: 9', 'GET', { kind: 'none' }],
    ['HTTP/1.1 100 Continue', 'POST', { kind: 'none' }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', 'GET', { kind: 'chunked' }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip', 'GET', { kind: 'close' }],
    ['HTTP/1.0 200 OK', 'GET', { kind: 'close' }],
    ['HTTP/1.1 200', 'GET', { kind: 'close' }],
  ])('framing of %j answering %s', (head, method, framing) => {
    expect(parseResponseHead(b(head), method).framing).toEqual(framing);
  });

  it.each(['HTTP/1.1 20 OK', 'HTTP/2 200 OK', 'HTTP/1.1 200OK', 'HTTP/1.1 099 x', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2'])(
    'refuses %j with 502',
    (head) => {
      expect(statusOf(() => parseResponseHead(b(head), 'GET'))).toBe(502);
    },
  );
});

describe('ChunkedScanner', () => {
  const fail = (d: string) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d);
  const body = '5;ext=1\r\nhello\r\n1A \r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 1\r\n\r\n';

  it('finds the end of a chunked body whatever the splits, and leaves what follows', () => {
    const input = b(`${body}NEXT`);
    for (let trial = 0; trial < 200; trial++) {
      const s = new ChunkedScanner(1024, fail);
      let end = -1;
      let consumed = 0;
      let pos = 0;
      while (pos < input.length && end < 0) {
        const n = 1 + Math.floor(Math.random() * 9);
        const piece = input.subarray(pos, pos + n);
        const at = s.scan(piece, 0);
        if (at >= 0) end = consumed + at;
        consumed += piece.length;
        pos += n;
      }
      expect(end).toBe(body.length);
    }
  });

  it.each([
    ['x\r\n', 'chunk size expected'],
    ['5\r\nhelloX', 'chunk data longer than its size'],
    ['5\nhello', 'bad chunk size'],
    ['5\r\r', 'CR without LF'],
    ['FFFFFFFFFFFFFF\r\n', 'chunk size too large'],
    ['0\r\nX: 1\nY', 'bad trailer line'],
  ])('refuses %j', (input, message) => {
    expect(() => new ChunkedScanner(1024, fail).scan(b(input), 0)).toThrow(message);
  });

  it('bounds the trailer section', () => {
    expect(() => new ChunkedScanner(16, fail).scan(b(`0\r\nX-Long: ${'a'.repeat(32)}\r\n\r\n`), 0)).toThrow('trailers too large');
  });
});

type Event = ['head', string] | ['body', string] | ['end'];

function reader(max = 1024) {
  const events: Event[] = [];
  const r = new MessageReader<RequestHead>(
    parseRequestHead,
    max,
    {
      head: (h) => void events.push(['head', `${h.method} ${h.target}`]),
      body: (p) => void events.push(['body', p.toString('latin1')]),
      end: () => void events.push(['end']),
    },
    (head) => requestHeadTooLarge(head, max),
    (d) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d),
  );
  return { r, events };
}

/** Merges adjacent body events, so results compare whatever the input splits. */
function normalise(events: Event[]): Event[] {
  const out: Event[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e[0] === 'body' && last?.[0] === 'body') last[1] += e[1];
    else if (e[0] !== 'body' || e[1] !== '') out.push([...e] as Event);
  }
  return out;
}

describe('MessageReader', () => {
  const stream =
    '\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
    'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n' +
    'GET /d HTTP/1.1\r\nHost: x\r\n\r\n';
  const expected: Event[] = [
    ['head', 'GET /a'],
    ['end'],
    ['head', 'POST /b'],
    ['body', 'abc'],
    ['end'],
    ['head', 'POST /c'],
    ['body', '3\r\nxyz\r\n0\r\n\r\n'],
    ['end'],
    ['head', 'GET /d'],
    ['end'],
  ];

  it('splits pipelined requests into heads, raw body pieces and ends, whatever the chunk splits', () => {
    const input = b(stream);
    for (let trial = 0; trial < 300; trial++) {
      const { r, events } = reader();
      let pos = 0;
      while (pos < input.length) {
        const n = 1 + Math.floor(Math.random() * 40);
        r.push(input.subarray(pos, pos + n));
        pos += n;
      }
      expect(normalise(events)).toEqual(expected);
      expect(r.idle).toBe(true);
    }
  });

  it('keeps its own copy of partial heads and held bytes when its input is a borrowed read buffer', () => {
    const input = b(stream);
    for (let trial = 0; trial < 100; trial++) {
      const { r, events } = reader();
      const cuts = Array.from({ length: 12 }, () => Math.floor(Math.random() * input.length));
      // Pause at random points too, so bytes are held across overwritten reads.
      feedBorrowed(splitAt(input, cuts), (view) => {
        r.push(view);
        if (Math.random() < 0.3) r.pause();
        else r.resume();
      });
      r.resume();
      expect(normalise(events)).toEqual(expected);
    }
  });

  it.each([
    ['a target over the limit, before the line ends', 414, `GET /${'a'.repeat(100)}`],
    ['a target over the limit, the head complete', 414, `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`],
    ['a request line just over the limit, headers behind it', 414, `GET /${'a'.repeat(52)} HTTP/1.1\r\nHost: a\r\n\r\n`],
    ['a request line at the limit, headers behind it', 431, `GET /${'a'.repeat(50)} HTTP/1.1\r\nHost: a\r\n\r\n`],
    ['a header field over the limit, before the head ends', 431, `GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}`],
    ['header fields over the limit, the head complete', 431, `GET / HTTP/1.1\r\nHost: a${'\r\nX: 1'.repeat(20)}\r\n\r\n`],
    ['a method over the limit', 501, 'A'.repeat(100)],
  ])('answers %s with %i once the head outgrows the limit, whatever the splits', (_what, status, bytes) => {
    for (const size of [1, 7, bytes.length]) {
      const { r } = reader(64);
      const pieces: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) pieces.push(b(bytes.slice(at, at + size)));
      expect(statusOf(() => pieces.forEach((p) => r.push(p)))).toBe(status);
    }
  });

  it.each([
    ['a head with bare LFs', 'GET / HTTP/1.1\nHost: x\n\n'],
    ['a bare LF after the request line', 'GET / HTTP/1.1\r\nHost: x\n'],
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
    ['a blank line of a bare LF before the head', '\nGET / HTTP/1.1\r\n'],
  ])('refuses %s at once (400), before the head is complete', (_name, bytes) => {
    const { r } = reader();
    expect(statusOf(() => r.push(b(bytes)))).toBe(400);
  });

  it('refuses a response head with bare LFs at once (502)', () => {
    const r = new MessageReader<ResponseHead>(
      (h) => parseResponseHead(h, 'GET'),
      1024,
      { head: () => {}, body: () => {}, end: () => {} },
      () => new HttpError('TUN_ERR_BAD_RESPONSE', 502),
      (d) => new HttpError('TUN_ERR_BAD_RESPONSE', 502, d),
    );
    expect(statusOf(() => r.push(b('HTTP/1.1 200 OK\nContent-Length: 0\n')))).toBe(502);
  });

  it('pauses before a refused head and parses it again on resume', () => {
    let refuse = true;
    const seen: string[] = [];
    const r = new MessageReader<RequestHead>(
      parseRequestHead,
      1024,
      { head: (h) => (refuse ? false : void seen.push(h.target)), body: () => {}, end: () => {} },
      () => new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431),
      (d) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d),
    );
    r.push(b('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(seen).toEqual([]);
    refuse = false;
    r.resume();
    expect(seen).toEqual(['/1', '/2']);
  });

  it('passes everything through once switched to raw', () => {
    const events: string[] = [];
    const r = new MessageReader<ResponseHead>(
      (h) => parseResponseHead(h, 'GET'),
      1024,
      {
        head: (h) => void (h.status === 101 && r.switchToRaw()),
        body: (p) => void events.push(p.toString('latin1')),
        end: () => events.push('end'),
      },
      () => new HttpError('TUN_ERR_BAD_RESPONSE', 502),
      (d) => new HttpError('TUN_ERR_BAD_RESPONSE', 502, d),
    );
    r.push(b('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi'));
    r.push(b('HTTP/1.1 200 OK\r\n\r\n'));
    expect(events).toEqual(['\x81\x02hi', 'HTTP/1.1 200 OK\r\n\r\n']);
    expect(r.raw).toBe(true);
  });
});

describe('forwardRequestHead', () => {
  const facts = {
    remoteAddress: '::ffff:203.0.113.7',
    clientAddress: '::ffff:203.0.113.7',
    proto: 'http',
    host: 'app.test',
    trustProxy: false,
  };

  it('drops hop-by-hop fields and those Connection names, keeps framing, adds X-Forwarded-*', () => {
    const h = parseRequestHead(
      b(
        'POST /x HTTP/1.1\r\nHost: app.test\r\nConnection: keep-alive, X-Drop, Content-Length\r\nKeep-Alive: timeout=5\r\nX-Drop: 1\r\n' +
          'X-Forwarded-For: 6.6.6.6\r\nProxy-Authorization: secret\r\nTE: trailers\r\nContent-Length: 2\r\nX-Request-Id: forged\r\nX-Keep: a',
      ),
    );
    expect(forwardRequestHead(h, facts, { requestId: 'rid-1' }).toString('latin1')).toBe(
      'POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\nX-Keep: a\r\n' +
        'X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: app.test\r\nX-Real-IP: 203.0.113.7\r\nX-Request-Id: rid-1\r\nConnection: keep-alive\r\n\r\n',
    );
  });

  it('keeps an upgrade and appends to a trusted X-Forwarded-For chain', () => {
    const h = parseRequestHead(
      b('GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Forwarded-For: 10.0.0.1'),
    );
    const text = forwardRequestHead(h, { ...facts, trustProxy: true }, { requestId: 'rid-2' }).toString('latin1');
    expect(text).toContain('X-Forwarded-For: 10.0.0.1, 203.0.113.7\r\n');
    expect(text).toContain('Upgrade: websocket\r\nConnection: upgrade\r\n\r\n');
  });
});

describe('trustedFacts', () => {
  it('reads a valid X-Request-Id and the last X-Forwarded-For entry', () => {
    const h = parseRequestHead(b('GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.9\r\nX-Request-Id: abc-1'));
    expect(trustedFacts(h.rawHeaders)).toEqual({ requestId: 'abc-1', clientAddress: '198.51.100.9' });
  });

  it('drops ::ffff: from a v4-mapped last entry, as from the peer address (the access log and X-Real-IP agree)', () => {
    const h = parseRequestHead(b('GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: ::ffff:198.51.100.9'));
    expect(trustedFacts(h.rawHeaders).clientAddress).toBe('198.51.100.9');
  });

  it('ignores an unsafe or overlong id and an empty chain', () => {
    for (const id of ['a b', 'x'.repeat(129), '"q"']) {
      const h = parseRequestHead(b(`GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: \r\nX-Request-Id: ${id}`));
      expect(trustedFacts(h.rawHeaders)).toEqual({ requestId: undefined, clientAddress: undefined });
    }
  });
});

describe('forwardResponseHead', () => {
  it('returns the very same bytes when nothing must go', () => {
    const raw = b('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n');
    const head = parseResponseHead(raw.subarray(0, raw.length - 4), 'GET');
    expect(forwardResponseHead(head, raw)).toBe(raw);
  });

  it('drops the fields Connection names', () => {
    const raw = b('HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n');
    const head = parseResponseHead(raw.subarray(0, raw.length - 4), 'GET');
    expect(forwardResponseHead(head, raw).toString('latin1')).toBe(
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nConnection: close\r\n\r\n',
    );
  });
});
