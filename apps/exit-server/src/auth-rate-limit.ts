/** Settings of {@link AuthRateLimit}. */
export interface AuthRateLimitOptions {
  /** Failed attempts one address may make per window before it is refused (429). 0 disables. */
  readonly maxFailures: number;
  /** Length of the window, ms. */
  readonly windowMs: number;
  /** Addresses tracked at most (oldest forgotten first), so a spray of addresses cannot grow memory. */
  readonly maxAddresses: number;
  /** Clock, ms; injected for tests. */
  readonly now?: () => number;
}

interface Entry {
  windowStart: number;
  failures: number;
}

/** Outcome of {@link AuthRateLimit.check}. */
export type RateLimitOutcome =
  /** The address may try. */
  | { readonly state: 'allowed' }
  /** Too many failures: refuse with 429 and `Retry-After: retryAfterS`. */
  | { readonly state: 'limited'; readonly retryAfterS: number };

/**
 * Counts failed authentications (tunnel upgrades and admin requests) per source address in
 * fixed windows; an address over the limit is refused until its window ends, without its token
 * even being checked. Successful attempts are never counted, so a working client is not slowed.
 */
export class AuthRateLimit {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: AuthRateLimitOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Whether `address` may attempt to authenticate now. */
  check(address: string): RateLimitOutcome {
    if (this.opts.maxFailures === 0) return { state: 'allowed' };
    const e = this.current(address);
    if (!e || e.failures < this.opts.maxFailures) return { state: 'allowed' };
    return { state: 'limited', retryAfterS: Math.max(1, Math.ceil((e.windowStart + this.opts.windowMs - this.now()) / 1000)) };
  }

  /** Records a failed attempt from `address`. */
  failed(address: string): void {
    if (this.opts.maxFailures === 0) return;
    let e = this.current(address);
    if (!e) {
      e = { windowStart: this.now(), failures: 0 };
      this.entries.set(address, e);
      if (this.entries.size > this.opts.maxAddresses) this.entries.delete(this.entries.keys().next().value as string);
    }
    e.failures++;
  }

  /** Addresses tracked now (for /status and tests). */
  get size(): number {
    return this.entries.size;
  }

  private current(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e && this.now() - e.windowStart >= this.opts.windowMs) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }
}

/**
 * The address failed authentications are counted against. Behind a trusted proxy (an ALB) every
 * connection comes from the proxy, so counting its address would let one misconfigured device
 * lock every other device out: the last `X-Forwarded-For` hop (what the proxy saw) is used
 * instead. Without `trustProxy` the header is the client's to forge and is ignored.
 */
export function authSource(remote: string, forwardedFor: string | string[] | undefined, trustProxy: boolean): string {
  if (!trustProxy || forwardedFor === undefined) return remote;
  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const last = joined.split(',').pop()?.trim() ?? '';
  return /^[0-9A-Fa-f:.]{2,45}$/.test(last) ? last : remote;
}
