import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpError } from '@tunnel/tunnel-protocol';
import { cutsArb, mutated, splitAt } from '@tunnel/tunnel-protocol/testing';
import { ChunkedScanner } from './chunked.ts';
import { forwardRequestHead, forwardResponseHead } from './forward-head.ts';
import { parseRequestHead, parseResponseHead, type RequestHead } from './head.ts';
import { MessageReader } from './reader.ts';

/** 10,000 cases per property (the bar); inputs are kept small so each suite stays within seconds. */
const RUNS = { numRuns: 10_000 };
/** Generous: 10,000 cases take a few seconds, more on a loaded machine; a hang still fails. */
const FUZZ_TIMEOUT_MS = 120_000;
const b = (s: string) => Buffer.from(s, 'latin1');

/** Runs `fn`; anything thrown must be a typed HttpError with a 4xx/5xx status. */
function typed(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBeGreaterThanOrEqual(400);
  }
}

const REQUEST_HEADS = [
  'GET / HTTP/1.1\r\nHost: a.test',
  'POST /x?y=1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nX-A: b',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive',
  'GET http://a.test:80/p HTTP/1.1\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket',
  'OPTIONS * HTTP/1.0',
].map(b);

const RESPONSE_HEADS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 3',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nSet-Cookie: a=1',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade',
  'HTTP/1.0 204 No Content\r\nConnection: close, X-A\r\nX-A: 1',
].map(b);

const CHUNKED = ['5\r\nhello\r\n0\r\n\r\n', '1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 1\r\n\r\n', '0\r\n\r\n'].map(b);

const STREAMS = [
  '\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc',
  'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\nT: 1\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n',
].map(b);

const anyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

describe('fuzz: request heads', () => {
  it(
    'random bytes: a head or a typed HttpError, and a parsed head re-heads cleanly',
    () => {
      fc.assert(
        fc.property(anyBytes, (bytes) =>
          typed(() =>
            forwardRequestHead(parseRequestHead(bytes), {
              remoteAddress: '1.2.3.4',
              clientAddress: '1.2.3.4',
              proto: 'http',
              host: 'a',
              trustProxy: false,
            }),
          ),
        ),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated valid heads: a head or a typed HttpError; what parses has sane framing',
    () => {
      fc.assert(
        fc.property(mutated(REQUEST_HEADS), (bytes) =>
          typed(() => {
            const h = parseRequestHead(bytes);
            expect(['none', 'length', 'chunked']).toContain(h.framing.kind);
            expect(h.target === '*' || h.target.startsWith('/')).toBe(true);
            forwardRequestHead(h, {
              remoteAddress: '1.2.3.4',
              clientAddress: '1.2.3.4',
              proto: 'http',
              host: h.authority,
              trustProxy: false,
            });
          }),
        ),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('fuzz: response heads', () => {
  it(
    'random bytes: a head or a typed HttpError',
    () => {
      fc.assert(
        fc.property(anyBytes, (bytes) => typed(() => forwardResponseHead(parseResponseHead(bytes, 'GET'), bytes))),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'mutated valid heads: a head or a typed HttpError; Content-Length never survives next to Transfer-Encoding',
    () => {
      fc.assert(
        fc.property(mutated(RESPONSE_HEADS), fc.constantFrom('GET', 'HEAD', 'POST'), (bytes, method) =>
          typed(() => {
            const h = parseResponseHead(bytes, method);
            const out = forwardResponseHead(h, Buffer.concat([bytes, b('\r\n\r\n')]))
              .toString('latin1')
              .toLowerCase();
            if (out.includes('\r\ntransfer-encoding:')) expect(out).not.toContain('\r\ncontent-length:');
          }),
        ),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('fuzz: chunked bodies', () => {
  const fail = (d: string) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d);

  it(
    'random and mutated bodies, split anywhere: an end, more wanted, or a typed HttpError; splits never change the answer',
    () => {
      fc.assert(
        fc.property(fc.oneof(anyBytes, mutated(CHUNKED)), cutsArb, (bytes, cuts) => {
          const whole = outcome(() => new ChunkedScanner(64, fail).scan(bytes, 0));
          const scanner = new ChunkedScanner(64, fail);
          let consumed = 0;
          const split = outcome(() => {
            for (const piece of splitAt(bytes, cuts)) {
              const end = scanner.scan(piece, 0);
              if (end >= 0) return consumed + end;
              consumed += piece.length;
            }
            return -1;
          });
          expect(split).toEqual(whole);
        }),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

/** A scan's result, or the error's status, so whole and split runs compare. */
function outcome(fn: () => number): number | string {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    return `error ${(err as HttpError).status}`;
  }
}

describe('fuzz: the request stream reader', () => {
  it(
    'mutated pipelined streams, split anywhere: events or a typed HttpError, never a hang',
    () => {
      fc.assert(
        fc.property(fc.oneof(mutated(STREAMS), anyBytes), cutsArb, (bytes, cuts) => {
          let events = 0;
          const r = new MessageReader<RequestHead>(
            parseRequestHead,
            256,
            { head: () => void events++, body: () => void events++, end: () => void events++ },
            () => new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431),
            (d) => new HttpError('TUN_ERR_BAD_REQUEST', 400, d),
            { maxBytes: 1024, over: () => new HttpError('TUN_ERR_HELD_BYTES', 413) },
          );
          typed(() => {
            for (const piece of splitAt(bytes, cuts)) r.push(piece);
          });
          // Each event consumed input: far fewer events than bytes (no loop without progress).
          expect(events).toBeLessThanOrEqual(bytes.length * 3 + 3);
        }),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
