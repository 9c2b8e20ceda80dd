import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpWatch, type Exchange } from './http-watch.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

function watch() {
  const done: Exchange[] = [];
  const why: string[] = [];
  return {
    w: new HttpWatch(
      (e) => done.push(e),
      (r) => why.push(r),
    ),
    done,
    why,
  };
}

describe('HttpWatch', () => {
  it('follows kept-alive requests with length, chunked and no bodies, and their responses', () => {
    const { w, done, why } = watch();
    w.request(b('POST /a?q=1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: r1\r\nContent-Length: 3\r\n\r\nabc'));
    w.request(b('PUT /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Request-Id: r2\r\n\r\n3;ext=1\r\nabc\r\n0\r\nT: 1\r\n\r\n'));
    w.request(b('GET /c HTTP/1.1\r\nHost: x\r\n\r\n'));
    w.response(b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'));
    w.response(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'));
    w.response(b('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    expect(why).toEqual([]);
    expect(done.map((e) => [e.method, e.target, e.requestId, e.status])).toEqual([
      ['POST', '/a?q=1', 'r1', 201],
      ['PUT', '/b', 'r2', 200],
      ['GET', '/c', undefined, 404],
    ]);
    expect(done[0].bytesIn).toBe(b('POST /a?q=1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: r1\r\nContent-Length: 3\r\n\r\nabc').length);
    expect(done[1].bytesOut).toBe(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n').length);
    expect(done.every((e) => e.firstByte >= e.started)).toBe(true);
  });

  it('sees the same exchanges however the bytes are split', () => {
    const req = b(
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\n',
    );
    const res = b(
      'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcdHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n',
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: req.length - 1 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: res.length - 1 }), { maxLength: 6 }),
        (a, c) => {
          const { w, done, why } = watch();
          const pieces = (buf: Buffer, cuts: number[]) => {
            const at = [0, ...[...new Set(cuts)].sort((x, y) => x - y), buf.length];
            return at.slice(1).map((end, k) => buf.subarray(at[k], end));
          };
          for (const p of pieces(req, a)) w.request(p);
          for (const p of pieces(res, c)) w.response(p);
          expect(why).toEqual([]);
          expect(done.map((e) => `${e.method} ${e.target} ${e.status}`)).toEqual(['GET /1 200', 'POST /2 200', 'HEAD /3 200']);
          expect(done.reduce((n, e) => n + e.bytesIn, 0)).toBe(req.length);
          expect(done.reduce((n, e) => n + e.bytesOut, 0)).toBe(res.length);
        },
      ),
    );
  });

  it('ends a close-delimited response at the end, and reports unanswered requests with status 0', () => {
    const { w, done } = watch();
    w.request(b('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n'));
    w.response(b('HTTP/1.0 200 OK\r\n\r\nbody until close'));
    w.end();
    expect(done.map((e) => [e.target, e.status, e.firstByte >= 0])).toEqual([
      ['/a', 200, true],
      ['/b', 0, false],
    ]);
  });

  it('reports a 101 and stops looking at the upgraded bytes; a declined upgrade goes on as HTTP', () => {
    const up = watch();
    up.w.request(b('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n'));
    up.w.response(b('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi'));
    up.w.request(b('\x81\x82\0\0\0\0hi'));
    expect(up.done.map((e) => e.status)).toEqual([101]);
    expect(up.why).toEqual([]);
    const declined = watch();
    declined.w.request(b('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'));
    declined.w.response(b('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    declined.w.request(b('GET /next HTTP/1.1\r\n\r\n'));
    declined.w.response(b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(declined.done.map((e) => `${e.target} ${e.status}`)).toEqual(['/ws 400', '/next 200']);
  });

  it('stops watching (and says why) on what it does not understand, once', () => {
    const { w, done, why } = watch();
    w.request(b('GET /a HTTP/1.1\r\n\r\n'));
    w.response(b('NONSENSE\r\n\r\n'));
    w.response(b('HTTP/1.1 200 OK\r\n\r\n'));
    expect(done).toEqual([]);
    expect(why).toEqual(['a status line the watcher does not understand']);
    const big = watch();
    big.w.request(b(`GET /a HTTP/1.1\r\nX: ${'a'.repeat(70 * 1024)}`));
    expect(big.why).toEqual(['a head over 64 KiB']);
  });
});

describe('HttpWatch when its callback throws', () => {
  it('stops watching and says why, never throwing into the data path', () => {
    const why: string[] = [];
    const w = new HttpWatch(
      () => {
        throw new Error('boom');
      },
      (r) => why.push(r),
    );
    expect(() => {
      w.request(b('GET / HTTP/1.1\r\n\r\n'));
      w.response(b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
      w.response(b('more'));
      w.end();
    }).not.toThrow();
    expect(why).toEqual(['watcher failed: boom']);
  });
});
