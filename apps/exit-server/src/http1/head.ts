import { HTTP_TOKEN, HttpError } from '@tunnel/tunnel-protocol';
import { isAuthority, readTarget } from './target.ts';

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
  /**
   * True when the target came in absolute form (`GET http://host/path`): `target` is then the
   * origin form and `authority` the target's, which wins over `Host` (RFC 9112 3.2.2).
   */
  readonly absoluteForm: boolean;
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
  /** Both `Transfer-Encoding` and `Content-Length` came: the length is ignored and must not be forwarded (RFC 9112 6.3). */
  readonly dropContentLength: boolean;
}

const CRLF = Buffer.from('\r\n');

/** Most header fields in one head; more is answered 431. */
export const MAX_HEADER_FIELDS = 256;

/**
 * Request-target bytes (RFC 9112 3.2, RFC 3986): visible ASCII but `#`. No controls or spaces
 * (they end or corrupt the line), no `#` (a fragment is never part of a request-target: upstreams
 * that split on it see another path or cache key than the router), and no bytes over 0x7e (a URI
 * is ASCII; upstreams decode raw 8-bit paths as UTF-8, latin1 or not at all, and node refuses
 * them). Other ASCII that RFC 3986 leaves out (`"`, `<`, `>`, `\`, `^`, a backtick, `{`, `|`,
 * `}`, a `%` without two hex digits) goes on, as node and nginx accept it: browsers send some of
 * it unencoded in queries, and no parser splits on it.
 */
const TARGET = /^[\x21\x22\x24-\x7e]+$/;
// Field values: visible, obs-text, SP and HTAB; no other controls (NUL, bare CR/LF).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^[0-9]{1,15}$/;

/**
 * `line` from `start` to its end without optional whitespace (SP and HTAB only, RFC 9110
 * 5.6.3: no VT, FF, NBSP or other "spaces") at either end: one slice, not one to cut and one to trim.
 */
function trimmedFrom(line: string, start: number): string {
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
  return line.slice(start, end);
}

/** Strips optional whitespace (see trimmedFrom). */
function trimOws(v: string): string {
  return trimmedFrom(v, 0);
}

/**
 * True when token `name` is `lower` but for case. Per character `| 0x20` lower-cases a letter
 * and leaves `-` and digits as they are; no other token character turns into a letter, a digit
 * or `-` that way, so no allocation of a lower-cased copy is needed (this runs per header of
 * every request and response).
 */
function isName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** The `connection` of every head without a Connection field: one set, never added to (ReadonlySet). */
const NO_TOKENS: ReadonlySet<string> = new Set();

const NONE: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const CLOSE: BodyFraming = { kind: 'close' };

function badRequest(detail: string): HttpError {
  return new HttpError('TUN_ERR_BAD_REQUEST', 400, detail);
}

/** Splits header lines into flat name/value pairs; `fail` builds the error for a malformed line. */
function parseFields(lines: string[], fail: (detail: string) => HttpError): string[] {
  if (lines.length - 1 > MAX_HEADER_FIELDS)
    throw new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431, `more than ${MAX_HEADER_FIELDS} header fields`);
  const raw = new Array<string>((lines.length - 1) * 2);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // A name must be a token right up to the colon: whitespace before it (RFC 9112 5.1) and
    // obs-fold continuation lines are refused, since proxies disagree on them.
    if (colon <= 0) throw fail('a header line without a name');
    const name = line.slice(0, colon);
    if (!HTTP_TOKEN.test(name)) throw fail(`bad header name "${name.slice(0, 32)}"`);
    const value = trimmedFrom(line, colon + 1);
    if (!VALUE.test(value)) throw fail(`bad value for header ${name}`);
    raw[(i - 1) * 2] = name;
    raw[(i - 1) * 2 + 1] = value;
  }
  return raw;
}

function tokens(into: Set<string>, value: string): void {
  // Nearly always one token (`keep-alive`, `close`): no list to split.
  if (!value.includes(',')) {
    const s = value.trim().toLowerCase();
    if (s) into.add(s);
    return;
  }
  for (const t of value.split(',')) {
    const s = t.trim().toLowerCase();
    if (s) into.add(s);
  }
}

/** What the framing headers of a head say, before the request/response rules apply. */
interface FramingFacts {
  contentLength: number | undefined;
  contentLengthCount: number;
  transferEncoding: string[] | undefined;
  /** Tokens of the Connection field(s); undefined without one (most requests: no Set to make). */
  connection: Set<string> | undefined;
  host: string | undefined;
  hostCount: number;
  upgrade: string | undefined;
}

function framingFacts(raw: string[], fail: (detail: string) => HttpError): FramingFacts {
  const facts: FramingFacts = {
    contentLength: undefined,
    contentLengthCount: 0,
    transferEncoding: undefined,
    connection: undefined,
    host: undefined,
    hostCount: 0,
    upgrade: undefined,
  };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Most names are not framing ones: compare lengths before lower-casing.
    switch (name.length) {
      case 4:
        if (isName(name, 'host')) {
          facts.hostCount++;
          facts.host = raw[i + 1].toLowerCase();
        }
        break;
      case 7:
        if (isName(name, 'upgrade')) facts.upgrade = raw[i + 1];
        break;
      case 10:
        if (isName(name, 'connection')) tokens((facts.connection ??= new Set()), raw[i + 1]);
        break;
      case 14:
        if (isName(name, 'content-length')) {
          // Exactly one field of plain digits: lists (`5, 5`) and repeats, even agreeing ones,
          // are where parsers differ, so they are refused rather than reconciled.
          const v = raw[i + 1];
          if (!DIGITS.test(v)) throw fail(`bad Content-Length "${v.slice(0, 20)}"`);
          if (++facts.contentLengthCount > 1) throw fail('more than one Content-Length');
          facts.contentLength = Number(v);
        }
        break;
      case 17:
        if (isName(name, 'transfer-encoding')) {
          facts.transferEncoding ??= [];
          for (const t of raw[i + 1].split(',')) {
            // Every element a token: no empty ones (`chunked,`), no parameters, nothing odd.
            const s = trimOws(t).toLowerCase();
            if (!HTTP_TOKEN.test(s)) throw fail(`bad Transfer-Encoding "${raw[i + 1].slice(0, 40)}"`);
            facts.transferEncoding.push(s);
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
  const rawTarget = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!HTTP_TOKEN.test(method)) throw badRequest('bad method');
  if (!TARGET.test(rawTarget)) throw badRequest(rawTarget.includes('#') ? 'a fragment in the request target' : 'bad request target');
  let minor: 0 | 1;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/[0-9]\.[0-9]$/.test(version)) throw new HttpError('TUN_ERR_BAD_REQUEST', 505, `unsupported ${version}`);
  else throw badRequest('malformed HTTP version');
  if (method === 'CONNECT')
    throw new HttpError('TUN_ERR_BAD_REQUEST', 405, 'CONNECT is not served: this is a reverse tunnel, not a forward proxy');

  const { path: target, authority: targetAuthority } = readTarget(method, rawTarget);
  const rawHeaders = parseFields(lines, badRequest);
  const f = framingFacts(rawHeaders, badRequest);
  if (f.hostCount > 1) throw badRequest('more than one Host header');
  if (minor === 1 && f.hostCount === 0) throw badRequest('HTTP/1.1 request without Host');
  // Empty is allowed (RFC 9112 3.2: a target without an authority); anything else must be one.
  if (f.host && !isAuthority(f.host)) throw badRequest(`bad Host "${f.host.slice(0, 40)}"`);
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
  const connection = f.connection ?? NO_TOKENS;
  const upgrade = f.upgrade !== undefined && connection.has('upgrade') ? f.upgrade : undefined;
  const authority = targetAuthority ?? f.host ?? '';
  return {
    method,
    target,
    minor,
    rawHeaders,
    authority,
    framing,
    connection,
    upgrade,
    absoluteForm: targetAuthority !== undefined,
  };
}

/**
 * The error for a request head over `max` bytes (`head`: its bytes so far). RFC 9112 3 sets
 * apart which part is too long: a request line that alone is over the limit is 414 (URI Too Long,
 * RFC 9110 15.5.15) for its target, or 501 for a method longer than any served (no space within
 * the limit); one that fits leaves the header fields too large, 431 (RFC 6585 5).
 */
export function requestHeadTooLarge(head: Buffer, max: number): HttpError {
  const lineEnd = head.indexOf(CRLF);
  if (lineEnd >= 0 && lineEnd <= max) return new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431, `request head over ${max} bytes`);
  const sp = head.indexOf(0x20);
  if (sp < 0 || sp > max) return new HttpError('TUN_ERR_BAD_REQUEST', 501, `a method over ${max} bytes`);
  return new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 414, `request line over ${max} bytes`);
}

/**
 * True when the request asks `Expect: 100-continue`: its client may hold the body back until the
 * upstream answers 100 (or finally), so until then the wait is the upstream's (RFC 9110 10.1.1).
 */
export function expectsContinue(head: RequestHead): boolean {
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 6 && raw[i].toLowerCase() === 'expect' && raw[i + 1].toLowerCase() === '100-continue') return true;
  }
  return false;
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
  const te = f.transferEncoding;
  if (te !== undefined) {
    // chunked, when there, is applied once and last (RFC 9112 6.1); anything else would leave
    // the next hop to guess where the body ends.
    const at = te.indexOf('chunked');
    if (at >= 0 && at !== te.length - 1) throw badResponse('chunked is not the last transfer coding');
  }
  let framing: BodyFraming;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = NONE;
  else if (te !== undefined) {
    framing = te[te.length - 1] === 'chunked' ? CHUNKED : CLOSE;
  } else if (f.contentLength !== undefined) {
    framing = f.contentLength === 0 ? NONE : { kind: 'length', length: f.contentLength };
  } else framing = CLOSE;
  // Both framings: Transfer-Encoding wins and Content-Length must not be passed on (RFC 9112 6.3).
  return {
    status,
    rawHeaders,
    connection: f.connection ?? NO_TOKENS,
    framing,
    dropContentLength: te !== undefined && f.contentLength !== undefined,
  };
}
