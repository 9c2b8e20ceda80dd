/**
 * Header helpers both ends share. Headers are flat `[name, value, ...]` lists (node's
 * `rawHeaders` shape) so order, case and repeated fields such as `set-cookie` survive.
 */

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
  const chain: string[] = [];
  let proto: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    // Only names as long as the X-Forwarded-* ones need lower-casing (this runs per request).
    const lower = name.length >= 15 && name.length <= 17 ? name.toLowerCase() : '';
    if (lower === 'x-forwarded-for') {
      if (facts.trustProxy) {
        for (const hop of headers[i + 1].split(',')) {
          const s = hop.trim();
          if (s) chain.push(s);
        }
      }
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
    out.push(name, headers[i + 1]);
  }
  const remote = stripV4Mapped(facts.remoteAddress);
  const forwardedFor = chain.length > 0 ? `${chain.join(', ')}, ${remote}` : remote;
  out.push('X-Forwarded-For', forwardedFor, 'X-Forwarded-Proto', proto ?? facts.proto, 'X-Forwarded-Host', host ?? facts.host);
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
