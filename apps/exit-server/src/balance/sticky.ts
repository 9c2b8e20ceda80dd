import { createHmac, randomBytes } from 'node:crypto';

import { STICKY_SECRET_MIN_BYTES } from '@tunnel/config';

export { STICKY_SECRET_MIN_BYTES };

/** Size of a secret made up by {@link StickyCookies.randomSecret}, bytes (twice the minimum). */
const RANDOM_SECRET_BYTES = 32;

/** Characters of a cookie value: 22 base64url characters carry 132 bits of the HMAC. */
const VALUE_CHARS = 22;

/** Context string mixed into every HMAC, so the secret signs nothing else by accident. */
const CONTEXT = 'tunnel-sticky-v1\0';

/**
 * Session affinity by cookie. The cookie value names a client without saying which: it is the
 * first 132 bits of HMAC-SHA256(secret, client id), so it reveals nothing about the client and
 * nobody without the secret can make one that picks a client they never received a cookie for.
 * Deriving it from the client id (not the session) keeps affinity across a client's reconnects
 * and across exit servers that share the secret. A value that matches no connected client is
 * ignored: the request goes by the policy and gets a fresh cookie.
 */
export class StickyCookies<C extends { readonly hello: { readonly clientId: string } }> {
  /** Connected clients by cookie value; a list because one id may briefly have two sessions. */
  private readonly byValue = new Map<string, C[]>();
  private readonly valueOf = new WeakMap<C, string>();
  /** `name=` as it starts a cookie pair, for the scan of Cookie headers. */
  private readonly prefix: string;

  constructor(
    /** Cookie name. */
    readonly name: string,
    private readonly secret: Buffer,
  ) {
    if (secret.length < STICKY_SECRET_MIN_BYTES) throw new RangeError(`a sticky-cookie secret needs ${STICKY_SECRET_MIN_BYTES}+ bytes`);
    this.prefix = `${name}=`;
  }

  /** A fresh random secret (one exit server alone, or tests). */
  static randomSecret(): Buffer {
    return randomBytes(RANDOM_SECRET_BYTES);
  }

  /** The cookie value that names a client with this id. */
  valueFor(clientId: string): string {
    return createHmac('sha256', this.secret).update(CONTEXT).update(clientId).digest('base64url').slice(0, VALUE_CHARS);
  }

  /** Registers a connected client. */
  add(client: C): void {
    const value = this.valueFor(client.hello.clientId);
    this.valueOf.set(client, value);
    const list = this.byValue.get(value);
    if (list) list.push(client);
    else this.byValue.set(value, [client]);
  }

  /** Forgets a client that disconnected. */
  remove(client: C): void {
    const value = this.valueOf.get(client);
    const list = value === undefined ? undefined : this.byValue.get(value);
    if (!list || value === undefined) return;
    const i = list.indexOf(client);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byValue.delete(value);
  }

  /** The cookie value of a registered client. */
  valueOfClient(client: C): string | undefined {
    return this.valueOf.get(client);
  }

  /** The connected clients a cookie value names (empty for a forged or stale value). */
  clientsFor(value: string): readonly C[] {
    return this.byValue.get(value) ?? [];
  }

  /** The value of our cookie in a request's headers (flat `[name, value, ...]`), if it carries one. */
  valueIn(rawHeaders: readonly string[]): string | undefined {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (rawHeaders[i].length !== 6 || rawHeaders[i].toLowerCase() !== 'cookie') continue;
      for (const pair of rawHeaders[i + 1].split(';')) {
        const p = pair.trim();
        if (p.startsWith(this.prefix)) return p.slice(this.prefix.length);
      }
    }
    return undefined;
  }

  /** Adds `Set-Cookie` for `value` to a response head (which ends with its blank line). */
  withCookie(head: Buffer, value: string): Buffer {
    // Session cookie (no Max-Age): affinity lasts as long as the browser session, and HttpOnly
    // since no script needs it. No `Secure`: this server may be reached over plain HTTP behind a
    // TLS-terminating load balancer, and then the browser would never send it back.
    const line = `Set-Cookie: ${this.name}=${value}; Path=/; HttpOnly; SameSite=Lax\r\n\r\n`;
    return Buffer.concat([head.subarray(0, head.length - 2), Buffer.from(line, 'latin1')]);
  }
}
