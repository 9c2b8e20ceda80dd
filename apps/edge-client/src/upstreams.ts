import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Upstream } from '@tunnel/config';

/** A configured upstream with its keep-alive pool. */
export interface UpstreamTarget {
  /** Hostname it serves, or null for the default upstream. */
  readonly hostname: string | null;
  /** Parsed upstream URL. */
  readonly url: URL;
  /** Path prefix to put before the request target ('' for `/`). */
  readonly basePath: string;
  /** Keep-alive connection pool to it. */
  readonly agent: HttpAgent;
  /** `node:http` or `node:https` request function. */
  readonly secure: boolean;
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
  /** Every target, for closing pools. */
  readonly all: UpstreamTarget[] = [];

  constructor(upstreams: readonly Upstream[], maxSockets: number) {
    let fallback: UpstreamTarget | undefined;
    for (const u of upstreams) {
      const url = new URL(u.url);
      const secure = url.protocol === 'https:';
      const agentOpts = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
      const target: UpstreamTarget = {
        hostname: u.hostname,
        url,
        basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
        agent: secure ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts),
        secure,
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

  /** Closes every pooled connection. */
  destroy(): void {
    for (const t of this.all) t.agent.destroy();
  }
}
