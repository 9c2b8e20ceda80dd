import { timingSafeEqual } from 'node:crypto';
import { tokenDigest, type ClientGrant } from '@tunnel/config';

/** Who a presented token says the client is. */
export type Identity =
  /** A shared token: every holder is trusted alike; the hello's id and claims are taken as they are. */
  | { readonly kind: 'shared' }
  /** A tokens-file entry: the identity is the entry's, and claims must fit its grant. */
  | { readonly kind: 'granted'; readonly grant: ClientGrant };

/**
 * The set of valid client tokens: shared tokens (several at once during a rotation) and
 * tokens-file entries. Immutable: a reload builds a new one.
 */
export class Credentials {
  private readonly shared: readonly Buffer[];
  /** Every tokens-file id, for refusing a hello that borrows another entry's id. */
  readonly grantedIds: ReadonlySet<string>;

  constructor(
    sharedTokens: readonly string[],
    /** Tokens-file entries; undefined without --tokens-file. */
    readonly grants: readonly ClientGrant[] | undefined,
  ) {
    this.shared = sharedTokens.map(tokenDigest);
    this.grantedIds = new Set((grants ?? []).map((g) => g.id));
  }

  /** Number of shared tokens (for logs; never the tokens). */
  get sharedCount(): number {
    return this.shared.length;
  }

  /**
   * Identifies the bearer of an `Authorization` header, or undefined. The presented token is
   * hashed once and compared with every stored digest in constant time, without stopping at a
   * match, so timing tells nothing about which or how many tokens exist.
   */
  identify(authorization: string | undefined): Identity | undefined {
    const presented = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
    if (presented === '') return undefined;
    const digest = tokenDigest(presented);
    let found: Identity | undefined;
    for (const d of this.shared) if (timingSafeEqual(d, digest) && !found) found = { kind: 'shared' };
    for (const grant of this.grants ?? []) {
      for (const d of grant.tokenDigests) if (timingSafeEqual(d, digest) && !found) found = { kind: 'granted', grant };
    }
    return found;
  }

  /**
   * True if a client authenticated as `identity` under an older set is still valid here: a shared
   * token still listed, or an entry whose id still exists with this token. Used after a reload.
   */
  stillValid(identity: Identity, tokenDigestValue: Buffer): boolean {
    if (identity.kind === 'shared') return this.shared.some((d) => d.equals(tokenDigestValue));
    const now = this.grants?.find((g) => g.id === identity.grant.id);
    return now !== undefined && now.tokenDigests.some((d) => d.equals(tokenDigestValue));
  }
}
