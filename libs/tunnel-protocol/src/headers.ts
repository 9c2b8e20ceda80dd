/**
 * Header helpers both ends share. Headers are flat `[name, value, ...]` lists (node's
 * `rawHeaders` shape) so order, case and repeated fields such as `set-cookie` survive.
 */

/** Facts about the public request that the exit server adds as `X-Forwarded-*` and `X-Real-IP`. */
export interface ForwardedFacts {
  /** Address of the peer that connected to the exit server (the proxy's, behind one). */
  readonly remoteAddress: string;
  /**
   * The public client's address as the access log has it, sent as `X-Real-IP`: `remoteAddress`,
   * or with `trustProxy` the last `X-Forwarded-For` hop (the one the trusted proxy appended).
   */
  readonly clientAddress: string;
  /** `http` or `https` as seen by the public client. */
  readonly proto: string;
  /** Host the public client asked for (the one the request is routed by). */
  readonly host: string;
  /**
   * Behind a trusted proxy such as an ALB: an incoming `X-Forwarded-For` chain is kept and
   * appended to, and `X-Forwarded-Proto` and `X-Forwarded-Port` are the proxy's (an ALB sets
   * both, overwriting the client's). Otherwise all three are the client's to forge: dropped.
   */
  readonly trustProxy: boolean;
}

const enum Field {
  /** Not a forwarding field: goes on. */
  Other,
  /** A forwarding field nobody vouches for (`Forwarded`, `X-Real-IP`, other `X-Forwarded-*`, kin): dropped. */
  Drop,
  For,
  Proto,
  Port,
}

const PREFIX = 'x-forwarded-';

/**
 * True when `name` from `at` reads `lower` (lower-case ASCII) but for case. Compared in place: a
 * lower-cased copy of every name would be garbage per header per request.
 */
function namePart(name: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(at + i);
    const l = lower.charCodeAt(i);
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 0x20)) return false;
  }
  return true;
}

/**
 * Which forwarding field `name` is, if any; most names are told apart by their length alone.
 * `X-Forwarded` and `Forwarded-For` are kin that client-address libraries (npm request-ip) read.
 */
function fieldOf(name: string): Field {
  const n = name.length;
  if (n === 9) return namePart(name, 0, 'forwarded') || namePart(name, 0, 'x-real-ip') ? Field.Drop : Field.Other;
  if (n === 11) return namePart(name, 0, 'x-forwarded') ? Field.Drop : Field.Other;
  if (n === 13 && namePart(name, 0, 'forwarded-for')) return Field.Drop;
  if (n < PREFIX.length || !namePart(name, 0, PREFIX)) return Field.Other;
  const rest = n - PREFIX.length;
  if (rest === 3 && namePart(name, PREFIX.length, 'for')) return Field.For;
  if (rest === 5 && namePart(name, PREFIX.length, 'proto')) return Field.Proto;
  if (rest === 4 && namePart(name, PREFIX.length, 'port')) return Field.Port;
  return Field.Drop;
}

/**
 * The headers the upstream gets: every incoming `Forwarded`, `X-Real-IP` and `X-Forwarded-*`
 * field (and `X-Forwarded`, `Forwarded-For`) is dropped, since anyone can forge them and apps
 * that trust their proxy read them as the client's address, host or scheme; then
 * `X-Forwarded-For`, `-Proto`, `-Host` and `X-Real-IP` are set from `facts`. With `trustProxy` the proxy's `X-Forwarded-For` chain is appended to, and its
 * `X-Forwarded-Proto` and `X-Forwarded-Port` (the last of each) go on; `X-Forwarded-Host` is
 * always the Host the request is routed by (an ALB passes the client's own through).
 */
export function withForwarded(headers: readonly string[], facts: ForwardedFacts): string[] {
  const out: string[] = [];
  const chain: string[] = [];
  let proto: string | undefined;
  let port: string | undefined;
  const trust = facts.trustProxy;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const field = fieldOf(name);
    if (field === Field.Other) out.push(name, headers[i + 1]);
    else if (!trust || field === Field.Drop) continue;
    else if (field === Field.For) {
      for (const hop of headers[i + 1].split(',')) {
        const s = hop.trim();
        if (s) chain.push(s);
      }
    } else if (field === Field.Proto) proto = headers[i + 1];
    else port = headers[i + 1];
  }
  const remote = stripV4Mapped(facts.remoteAddress);
  const forwardedFor = chain.length > 0 ? `${chain.join(', ')}, ${remote}` : remote;
  out.push('X-Forwarded-For', forwardedFor, 'X-Forwarded-Proto', proto ?? facts.proto, 'X-Forwarded-Host', facts.host);
  if (port !== undefined) out.push('X-Forwarded-Port', port);
  out.push('X-Real-IP', stripV4Mapped(facts.clientAddress));
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
