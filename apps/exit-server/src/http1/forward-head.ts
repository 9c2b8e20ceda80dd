import { withForwarded, type ForwardedFacts } from '@tunnel/tunnel-protocol';
import type { RequestHead, ResponseHead } from './head.ts';

/**
 * Connection tokens that go on: the public connection maps one-to-one onto an upstream
 * connection, so whether it persists (`close`, `keep-alive` for HTTP/1.0) and whether it
 * switches protocols (`upgrade`) is the upstream's business.
 */
const KEPT_TOKENS = ['close', 'keep-alive', 'upgrade'];

/** Hop-by-hop fields dropped whatever `Connection` says (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'upgrade']);

/** Fields `Connection` may never remove: dropping them would change how the body is delimited or routed. */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding']);

function droppable(lower: string, listed: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(lower) || (listed.has(lower) && !PROTECTED.has(lower));
}

function connectionValue(listed: ReadonlySet<string>, upgrade: boolean): string | undefined {
  // Most requests have no Connection header: no list to filter.
  if (listed.size === 0) return undefined;
  const kept = KEPT_TOKENS.filter((t) => listed.has(t) && (t !== 'upgrade' || upgrade));
  return kept.length > 0 ? kept.join(', ') : undefined;
}

/** How request heads are re-written. */
export interface ForwardOptions {
  /**
   * Pass header names containing `_`. Off by default: CGI-style apps (PHP, many frameworks)
   * read `X_Forwarded_For` as `X-Forwarded-For`, so such a name could forge one the tunnel set.
   */
  readonly allowUnderscoreHeaders?: boolean;
  /**
   * The request's id: sent as `X-Request-Id`, replacing any incoming one (the caller decided
   * whether to keep it). Unset: an incoming `X-Request-Id` goes on as it is.
   */
  readonly requestId?: string;
}

/**
 * The head the upstream sees: the request line and headers as received, minus hop-by-hop
 * fields (and those named in `Connection`), names with `_` and the forwarding fields nobody
 * vouches for (see withForwarded), plus `X-Forwarded-For/-Proto/-Host`, `X-Real-IP` and
 * `X-Request-Id` (see ForwardOptions). Framing headers are
 * kept as they are, since the body bytes follow unchanged. An absolute-form target goes on in
 * origin form with `Host` set to its authority.
 */
export function forwardRequestHead(head: RequestHead, facts: ForwardedFacts, opts: ForwardOptions = {}): Buffer {
  const requestId = opts.requestId;
  const raw = head.rawHeaders;
  const kept: string[] = [];
  let hostSeen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (!opts.allowUnderscoreHeaders && name.includes('_')) continue;
    const lower = name.toLowerCase();
    if (droppable(lower, head.connection) || (requestId !== undefined && lower === 'x-request-id')) continue;
    if (head.absoluteForm && lower === 'host') {
      hostSeen = true;
      kept.push(name, head.authority);
    } else kept.push(name, raw[i + 1]);
  }
  if (head.absoluteForm && !hostSeen) kept.unshift('Host', head.authority);
  const headers = withForwarded(kept, facts);
  if (requestId !== undefined) headers.push('X-Request-Id', requestId);
  if (head.upgrade !== undefined) headers.push('Upgrade', head.upgrade);
  const connection = connectionValue(head.connection, head.upgrade !== undefined);
  if (connection !== undefined) headers.push('Connection', connection);
  return headBytes(`${head.method} ${head.target} HTTP/1.${head.minor}`, headers);
}

/**
 * `first` (the request or status line), a `name: value` line per pair of `fields`, and the
 * blank line, in latin1. Written into one buffer piece by piece: concatenating the text first
 * made a string per piece and per join, ~1.9 KB of garbage per request head (a tenth of what
 * the exit server allocates per small request).
 */
function headBytes(first: string, fields: readonly string[]): Buffer {
  let size = first.length + 4;
  for (let i = 0; i < fields.length; i += 2) size += fields[i].length + fields[i + 1].length + 4;
  const out = Buffer.allocUnsafe(size);
  let at = put(out, 0, first);
  at = crlf(out, at);
  for (let i = 0; i < fields.length; i += 2) {
    at = put(out, at, fields[i]);
    out[at++] = 0x3a; // ':'
    out[at++] = 0x20;
    at = put(out, at, fields[i + 1]);
    at = crlf(out, at);
  }
  crlf(out, at);
  return out;
}

/** Writes `text` at `at` as latin1 (as Buffer.from(text, 'latin1') would); a JS loop, since heads are short and a native write per piece costs more. */
function put(out: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i) & 0xff;
  return at + text.length;
}

function crlf(out: Buffer, at: number): number {
  out[at] = 0x0d;
  out[at + 1] = 0x0a;
  return at + 2;
}

/**
 * The response head the public client sees. Nearly always the upstream's bytes untouched (no
 * copy); rebuilt only when `Connection` names other fields, which must not cross a proxy, or
 * when `Content-Length` came next to `Transfer-Encoding` (removed, RFC 9112 6.3: the next hop
 * must not be left to choose between them).
 */
export function forwardResponseHead(head: ResponseHead, raw: Buffer): Buffer {
  let custom = head.dropContentLength;
  for (const t of head.connection) if (!KEPT_TOKENS.includes(t)) custom = true;
  if (!custom) return raw;
  const statusLine = raw.toString('latin1', 0, raw.indexOf('\r\n'));
  let text = `${statusLine}\r\n`;
  const h = head.rawHeaders;
  for (let i = 0; i < h.length; i += 2) {
    const lower = h[i].toLowerCase();
    if (lower === 'connection' || (head.connection.has(lower) && !PROTECTED.has(lower))) continue;
    if (head.dropContentLength && lower === 'content-length') continue;
    text += `${h[i]}: ${h[i + 1]}\r\n`;
  }
  const connection = connectionValue(head.connection, head.status === 101);
  if (connection !== undefined) text += `Connection: ${connection}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}
