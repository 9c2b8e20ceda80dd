import { HttpError } from '@tunnel/tunnel-protocol';

/** How the body of a message is delimited (RFC 9112 section 6). */
export type BodyFraming =
  /** No body. */
  | { readonly kind: 'none' }
  /** `Content-Length` bytes. */
  | { readonly kind: 'length'; readonly length: number }
  /** `Transfer-Encoding: chunked`. */
  | { readonly kind: 'chunked' }
  /** Until the connection closes (responses only). */
  | { readonly kind: 'close' };

/** A parsed request head. */
export interface RequestHead {
  /** Method token, e.g. `GET`. */
  readonly method: string;
  /** Request target as sent (origin-form, absolute-form or `*`). */
  readonly target: string;
  /** Minor HTTP version: 0 or 1. */
  readonly minor: 0 | 1;
  /** Headers as flat `[name, value, ...]`, names as sent, values without surrounding whitespace. */
  readonly rawHeaders: string[];
  /** `Host` value, lower-cased; '' when absent (HTTP/1.0 only). */
  readonly authority: string;
  /** Body framing. */
  readonly framing: BodyFraming;
  /** Tokens of the `Connection` header(s), lower-cased. */
  readonly connection: ReadonlySet<string>;
  /** Protocol asked for with `Connection: upgrade` + `Upgrade`, else undefined. */
  readonly upgrade: string | undefined;
}

/** A parsed response head. */
export interface ResponseHead {
  /** Status code, 100-999. */
  readonly status: number;
  /** Headers as flat `[name, value, ...]`. */
  readonly rawHeaders: string[];
  /** Tokens of the `Connection` header(s), lower-cased. */
  readonly connection: ReadonlySet<string>;
  /** Body framing, given the request method it answers. */
  readonly framing: BodyFraming;
}

/** Most header fields in one head; more is answered 431. */
export const MAX_HEADER_FIELDS = 256;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII and obs-text; no controls, no spaces.
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
// Field values: visible, obs-text, SP and HTAB; no other controls (NUL, bare CR/LF).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^[0-9]{1,15}$/;

const NONE: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const CLOSE: BodyFraming = { kind: 'close' };

function badRequest(detail: string): HttpError {
  return new HttpError('TUN_ERR_BAD_REQUEST', 400, detail);
}

/** Splits header lines into flat name/value pairs; `fail` builds the error for a malformed line. */
function parseFields(lines: string[], fail: (detail: string) => HttpError): string[] {
  if (lines.length - 1 > MAX_HEADER_FIELDS) throw new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431, `more than ${MAX_HEADER_FIELDS} header fields`);
  const raw = new Array<string>((lines.length - 1) * 2);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // A name must be a token right up to the colon: whitespace before it (RFC 9112 5.1) and
    // obs-fold continuation lines are refused, since proxies disagree on them.
    if (colon <= 0) throw fail('a header line without a name');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw fail(`bad header name "${name.slice(0, 32)}"`);
    const value = line.slice(colon + 1).trim();
    if (!VALUE.test(value)) throw fail(`bad value for header ${name}`);
    raw[(i - 1) * 2] = name;
    raw[(i - 1) * 2 + 1] = value;
  }
  return raw;
}

function tokens(into: Set<string>, value: string): void {
  for (const t of value.split(',')) {
    const s = t.trim().toLowerCase();
    if (s) into.add(s);
  }
}

/** What the framing headers of a head say, before the request/response rules apply. */
interface FramingFacts {
  contentLength: number | undefined;
  transferEncoding: string[] | undefined;
  connection: Set<string>;
  host: string | undefined;
  hostCount: number;
  upgrade: string | undefined;
}

function framingFacts(raw: string[], fail: (detail: string) => HttpError): FramingFacts {
  const facts: FramingFacts = { contentLength: undefined, transferEncoding: undefined, connection: new Set(), host: undefined, hostCount: 0, upgrade: undefined };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Most names are not framing ones: compare lengths before lower-casing.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          facts.hostCount++;
          facts.host = raw[i + 1].toLowerCase();
        }
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') facts.upgrade = raw[i + 1];
        break;
      case 10:
        if (name.toLowerCase() === 'connection') tokens(facts.connection, raw[i + 1]);
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          for (const part of raw[i + 1].split(',')) {
            const v = part.trim();
            if (!DIGITS.test(v)) throw fail(`bad Content-Length "${raw[i + 1].slice(0, 20)}"`);
            const n = Number(v);
            if (facts.contentLength !== undefined && facts.contentLength !== n) throw fail('conflicting Content-Length values');
            facts.contentLength = n;
          }
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          facts.transferEncoding ??= [];
          for (const t of raw[i + 1].split(',')) {
            const s = t.trim().toLowerCase();
            if (s) facts.transferEncoding.push(s);
          }
        }
        break;
    }
  }
  return facts;
}

/**
 * Parses a request head (`head` holds the bytes up to, not including, the blank line).
 * Strict on purpose: anything two parsers could read differently (both `Content-Length` and
 * `Transfer-Encoding`, differing lengths, folded lines, bare LF) is refused, since the body
 * bytes are passed on as they are and the upstream must see exactly the same message.
 */
export function parseRequestHead(head: Buffer): RequestHead {
  const text = head.toString('latin1');
  // No separate bare-LF check: a stray CR or LF inside a line fails the token, target or
  // value patterns below.
  const lines = text.split('\r\n');
  const line = lines[0];
  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) throw badRequest('malformed request line');
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!TOKEN.test(method)) throw badRequest('bad method');
  if (!TARGET.test(target)) throw badRequest('bad request target');
  let minor: 0 | 1;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/[0-9]\.[0-9]$/.test(version)) throw new HttpError('TUN_ERR_BAD_REQUEST', 505, `unsupported ${version}`);
  else throw badRequest('malformed HTTP version');
  if (method === 'CONNECT') throw new HttpError('TUN_ERR_BAD_REQUEST', 405, 'CONNECT is not served: this is a reverse tunnel, not a forward proxy');

  const rawHeaders = parseFields(lines, badRequest);
  const f = framingFacts(rawHeaders, badRequest);
  if (f.hostCount > 1) throw badRequest('more than one Host header');
  if (minor === 1 && f.hostCount === 0) throw badRequest('HTTP/1.1 request without Host');
  let framing: BodyFraming = NONE;
  if (f.transferEncoding !== undefined) {
    if (f.contentLength !== undefined) throw badRequest('both Content-Length and Transfer-Encoding');
    if (minor === 0) throw badRequest('Transfer-Encoding in an HTTP/1.0 request');
    if (f.transferEncoding.length !== 1 || f.transferEncoding[0] !== 'chunked') {
      throw new HttpError('TUN_ERR_BAD_REQUEST', 501, `transfer coding "${f.transferEncoding.join(', ').slice(0, 40)}" is not supported`);
    }
    framing = CHUNKED;
  } else if (f.contentLength !== undefined && f.contentLength > 0) {
    framing = { kind: 'length', length: f.contentLength };
  }
  const upgrade = f.upgrade !== undefined && f.connection.has('upgrade') ? f.upgrade : undefined;
  return { method, target, minor, rawHeaders, authority: f.host ?? '', framing, connection: f.connection, upgrade };
}

function badResponse(detail: string): HttpError {
  return new HttpError('TUN_ERR_BAD_RESPONSE', 502, detail);
}

/**
 * Parses a response head; `method` is the request's, since a HEAD answer has no body whatever
 * its headers say.
 */
export function parseResponseHead(head: Buffer, method: string): ResponseHead {
  const text = head.toString('latin1');
  const lines = text.split('\r\n');
  const line = lines[0];
  // `HTTP/1.1 200 OK`: the reason phrase may be empty or contain spaces.
  if (line.length < 12 || !(line.startsWith('HTTP/1.1 ') || line.startsWith('HTTP/1.0 '))) throw badResponse('malformed status line');
  const code = line.slice(9, 12);
  if (!/^[1-9][0-9][0-9]$/.test(code) || (line.length > 12 && line[12] !== ' ')) throw badResponse('malformed status code');
  const status = Number(code);
  const rawHeaders = parseFields(lines, badResponse);
  const f = framingFacts(rawHeaders, badResponse);
  let framing: BodyFraming;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = NONE;
  else if (f.transferEncoding !== undefined) {
    framing = f.transferEncoding[f.transferEncoding.length - 1] === 'chunked' ? CHUNKED : CLOSE;
  } else if (f.contentLength !== undefined) {
    framing = f.contentLength === 0 ? NONE : { kind: 'length', length: f.contentLength };
  } else framing = CLOSE;
  return { status, rawHeaders, connection: f.connection, framing };
}
