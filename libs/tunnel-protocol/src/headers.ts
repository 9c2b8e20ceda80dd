/**
 * HTTP/1.1 <-> tunnel header mapping. Heads travel as flat `[name, value, ...]` lists (node's
 * `rawHeaders` shape) so order, case and repeated fields such as `set-cookie` survive.
 */

/** Headers that describe one connection hop and must not be forwarded (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Result of {@link requestHeadersToTunnel}. */
export interface TunnelRequestHeaders {
  /** End-to-end headers, flat. */
  readonly headers: string[];
  /** Value of `Host` (lower-cased), or '' if absent. */
  readonly authority: string;
  /** Protocol named in `Upgrade` when the request is an upgrade (e.g. `websocket`), else undefined. */
  readonly upgrade: string | undefined;
}

function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') {
      tokens ??= new Set();
      for (const t of raw[i + 1].split(',')) tokens.add(t.trim().toLowerCase());
    }
  }
  return tokens;
}

/**
 * Strips hop-by-hop headers (and those named in `Connection`) from a request's raw headers and
 * pulls out `Host`. For an upgrade (`Connection: upgrade` + `Upgrade`), `Upgrade` and
 * `Connection: upgrade` are kept so the edge client can repeat the upgrade to its upstream.
 */
export function requestHeadersToTunnel(raw: readonly string[]): TunnelRequestHeaders {
  const listed = connectionTokens(raw);
  let upgrade: string | undefined;
  if (listed?.has('upgrade')) {
    for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'upgrade') upgrade = raw[i + 1];
  }
  const headers: string[] = [];
  let authority = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (lower === 'host') {
      authority = raw[i + 1].toLowerCase();
      continue;
    }
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    headers.push(name, raw[i + 1]);
  }
  if (upgrade !== undefined) headers.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  return { headers, authority, upgrade };
}

/**
 * Strips hop-by-hop headers from a response. A 101 keeps `Upgrade`/`Connection` so the public
 * client sees the switch.
 */
export function responseHeadersToTunnel(raw: readonly string[], status: number): string[] {
  const listed = connectionTokens(raw);
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (status === 101 && (lower === 'upgrade' || lower === 'connection')) {
      headers.push(raw[i], raw[i + 1]);
      continue;
    }
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    headers.push(raw[i], raw[i + 1]);
  }
  return headers;
}

/** Facts about the public request that the exit server adds as `X-Forwarded-*`. */
export interface ForwardedFacts {
  /** Address of the peer that connected to the exit server. */
  readonly remoteAddress: string;
  /** `http` or `https` as seen by the public client. */
  readonly proto: string;
  /** Host the public client asked for. */
  readonly host: string;
  /** When true, an existing `X-Forwarded-For` chain is kept and appended to (behind a trusted proxy such as an ALB); otherwise it is replaced. */
  readonly trustProxy: boolean;
}

/**
 * Sets `X-Forwarded-For`, `-Proto` and `-Host` on flat headers. Without `trustProxy`, values
 * sent by the public client are dropped, since anyone can forge them.
 */
export function withForwarded(headers: readonly string[], facts: ForwardedFacts): string[] {
  const out: string[] = [];
  let chain: string[] = [];
  let proto: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i].toLowerCase();
    if (lower === 'x-forwarded-for') {
      if (facts.trustProxy) chain.push(...headers[i + 1].split(',').map((s) => s.trim()).filter(Boolean));
      continue;
    }
    if (lower === 'x-forwarded-proto') {
      if (facts.trustProxy) proto = headers[i + 1];
      continue;
    }
    if (lower === 'x-forwarded-host') {
      if (facts.trustProxy) host = headers[i + 1];
      continue;
    }
    out.push(headers[i], headers[i + 1]);
  }
  chain = [...chain, stripV4Mapped(facts.remoteAddress)];
  out.push('X-Forwarded-For', chain.join(', '), 'X-Forwarded-Proto', proto ?? facts.proto, 'X-Forwarded-Host', host ?? facts.host);
  return out;
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`, so logs and upstreams see the familiar form. */
export function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Hostname part of an authority (`Host` value), lower-case, without port or IPv6 brackets. */
export function hostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return (end > 0 ? authority.slice(1, end) : authority).toLowerCase();
  }
  const colon = authority.indexOf(':');
  return (colon >= 0 ? authority.slice(0, colon) : authority).toLowerCase();
}
