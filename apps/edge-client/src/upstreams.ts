import type { Upstream } from '@tunnel/config';

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
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(url.port) || (secure ? 443 : 80),
        secure,
        open: 0,
      };
      this.all.push(target);
      if (u.hostname === null) fallback = target;
      else if (u.hostname.startsWith('*.')) this.wildcard.set(u.hostname.slice(2), target);
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
    for (let dot = host.indexOf('.'); dot >= 0 && this.wildcard.size > 0; dot = host.indexOf('.', dot + 1)) {
      const t = this.wildcard.get(host.slice(dot + 1));
      if (t) return t;
    }
    return this.fallback;
  }
}
