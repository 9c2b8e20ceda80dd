import { unbracketHost, urlPort, type Upstream } from '@tunnel/config';
import { findByParentDomain, wildcardDomain } from '@tunnel/tunnel-protocol';

/** A configured upstream. */
export interface UpstreamTarget {
  /** Hostname it serves, or null for the default upstream. */
  readonly hostname: string | null;
  /** Parsed upstream URL (scheme, host and port; no path). */
  readonly url: URL;
  /** Host to dial (IPv6 without brackets). */
  readonly host: string;
  /** Port to dial. */
  readonly port: number;
  /** True for `https:` upstreams: dialled with TLS, certificate checked. */
  readonly secure: boolean;
  /** Connections open to it now. */
  open: number;
}

/**
 * The edge client's only reachable destinations. A request is matched by hostname (exact,
 * then `*.` wildcard, then the default); nothing else can ever be dialled, so the exit server
 * cannot steer the client into the home network.
 */
export class Upstreams {
  private readonly exact = new Map<string, UpstreamTarget>();
  private readonly wildcard = new Map<string, UpstreamTarget>();
  private readonly fallback: UpstreamTarget | undefined;
  /** Every target. */
  readonly all: UpstreamTarget[] = [];

  /**
   * @param upstreams Configured upstreams.
   * @param maxSockets Most connections open to one upstream at once.
   */
  constructor(
    upstreams: readonly Upstream[],
    readonly maxSockets: number,
  ) {
    let fallback: UpstreamTarget | undefined;
    for (const u of upstreams) {
      const url = new URL(u.url);
      const secure = url.protocol === 'https:';
      const target: UpstreamTarget = {
        hostname: u.hostname,
        url,
        host: unbracketHost(url.hostname),
        port: urlPort(url),
        secure,
        open: 0,
      };
      this.all.push(target);
      const domain = u.hostname === null ? undefined : wildcardDomain(u.hostname);
      if (u.hostname === null) fallback = target;
      else if (domain !== undefined) this.wildcard.set(domain, target);
      else this.exact.set(u.hostname, target);
    }
    this.fallback = fallback;
  }

  /** Hostnames to declare in the hello; none when a default upstream exists, since the client then serves every host. */
  get declaredHostnames(): string[] {
    if (this.fallback) return [];
    return this.all.map((t) => t.hostname as string);
  }

  /** The upstream for `host` (lower-case, no port), or undefined. */
  match(host: string): UpstreamTarget | undefined {
    const exact = this.exact.get(host);
    if (exact) return exact;
    return findByParentDomain(host, this.wildcard) ?? this.fallback;
  }
}
