import { HandshakeError, ResetCode, checkUpgradeRequest, type Hello, type Logger, type UpgradeRequestLike } from '@tunnel/tunnel-protocol';
import { tokenDigest } from '@tunnel/config';
import type { AuthRateLimit } from './auth-rate-limit.ts';
import type { ClientAuth, ClientConn } from './client-conn.ts';
import type { Credentials, Identity } from './credentials.ts';
import { admit } from './grants.ts';
import type { Router } from './router.ts';
import { decideConflict, probeLiveness } from './session-conflicts.ts';

/**
 * A held session heard from within this many ping intervals is alive without a PING round trip
 * (count; see ClientAdmissionOptions.recentlyHeardMs): a duplicate dial then cannot close a
 * healthy session on a loaded machine, and one silent for longer is probed.
 */
export const RECENTLY_HEARD_PING_INTERVALS = 2;

/** Settings of {@link ClientAdmission}. */
export interface ClientAdmissionOptions {
  /** The valid tokens and identities now (a getter: the token files may be re-read). */
  readonly credentials: () => Credentials;
  /** Failed-authentication limit per source address; absent: unlimited. */
  readonly rateLimit?: AuthRateLimit;
  /** The server's stream cap per client (a grant may lower it). */
  readonly maxStreams: number;
  /** Time a replaced or revoked session is given to finish its streams, ms. */
  readonly drainTimeoutMs: number;
  /**
   * A held session heard from within this long counts as alive without a PING round trip (a
   * second session from its process is then refused), ms; RECENTLY_HEARD_PING_INTERVALS ping intervals.
   */
  readonly recentlyHeardMs: number;
}

/** A client let in by {@link ClientAdmission.check}. */
export interface Admitted {
  readonly ok: true;
  /** The hello, with the identity's id. */
  readonly hello: Hello;
  /** How it authenticated. */
  readonly auth: ClientAuth;
  /** Its stream cap. */
  readonly maxStreams: number;
}

/** A refused upgrade: answered with `status` and the stable `code`. */
export interface Refused {
  readonly ok: false;
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** For 429: seconds until the address may try again. */
  readonly retryAfterS?: number;
}

/**
 * Decides who may open a tunnel session, before the upgrade completes: per-address rate limit on
 * failed attempts, token (shared or tokens-file identity), hello, grant; then, asynchronously,
 * duplicates and replacements per client id (see the hello's `nonce`). Counts every refusal by
 * code for /status.
 */
export class ClientAdmission {
  /** Refusals since start, by error code. */
  readonly refusals: Record<string, number> = {};

  constructor(
    private readonly opts: ClientAdmissionOptions,
    private readonly router: Router,
    private readonly log: Logger,
  ) {}

  /** Synchronous checks of an upgrade request from `remote`. Never throws. */
  check(req: UpgradeRequestLike, remote: string): Admitted | Refused {
    const limited = this.opts.rateLimit?.check(remote);
    if (limited?.state === 'limited') {
      return this.refused(
        new HandshakeError('TUN_ERR_RATE_LIMITED', 429, `too many failed attempts from ${remote}; retry in ${limited.retryAfterS} s`),
        limited.retryAfterS,
      );
    }
    const credentials = this.opts.credentials();
    let identity: Identity | undefined;
    let presented = '';
    const check = checkUpgradeRequest(req, (authorization) => {
      identity = credentials.identify(authorization);
      if (identity) presented = (authorization ?? '').slice(7);
      return identity !== undefined;
    });
    if (!check.ok) {
      if (check.error.code === 'TUN_ERR_AUTH') this.opts.rateLimit?.failed(remote);
      return this.refused(check.error);
    }
    // identity is set whenever the check passed (the bearer check is what sets it)
    const who = identity as Identity;
    try {
      const a = admit(check.hello, who, credentials.grantedIds, this.opts.maxStreams);
      const auth: ClientAuth = {
        identity: who,
        tokenDigest: tokenDigest(presented),
        ...(a.declaredId !== undefined ? { declaredId: a.declaredId } : {}),
      };
      return { ok: true, hello: a.hello, auth, maxStreams: a.maxStreams };
    } catch (err) {
      return this.refused(err as HandshakeError);
    }
  }

  /**
   * Applies the duplicate/replace rules for an admitted hello: resolves a refusal (409) for a live
   * duplicate of this process, otherwise undefined after draining what the new session replaces.
   */
  async resolveConflicts(hello: Hello): Promise<Refused | undefined> {
    const decision = decideConflict(this.router.clients, hello.clientId, hello.nonce);
    if (decision.kind === 'none') return undefined;
    if (decision.kind === 'same-process') {
      if (await probeLiveness(decision.held, this.opts.recentlyHeardMs)) {
        return this.refused(
          new HandshakeError(
            'TUN_ERR_DUPLICATE_SESSION',
            409,
            `client "${hello.clientId}" (this process) already holds session ${decision.held.sessionId} here`,
          ),
        );
      }
      this.log.info(
        { client: hello.clientId, session: decision.held.sessionId },
        'held session of the same process did not answer a ping: closing it for the new one',
      );
      decision.held.session.close();
      return undefined;
    }
    for (const old of decision.held) this.end(old, 'replaced');
    return undefined;
  }

  /**
   * After the token files changed: drains and closes every session whose token is no longer valid
   * or whose claims no longer fit its (changed) grant.
   */
  revalidate(): void {
    const credentials = this.opts.credentials();
    for (const c of [...this.router.clients]) {
      if (!c.auth || c.replaced) continue;
      let valid = credentials.stillValid(c.auth.identity, c.auth.tokenDigest);
      if (valid && c.auth.identity.kind === 'granted') {
        const grant = credentials.grants?.find((g) => g.id === c.hello.clientId);
        try {
          if (grant) admit(c.hello, { kind: 'granted', grant }, credentials.grantedIds, this.opts.maxStreams);
        } catch {
          valid = false;
        }
      }
      if (!valid) this.end(c, 'revoked');
    }
  }

  /** Sends GOAWAY with the reason, lets in-flight streams finish (bounded), then closes. */
  private end(client: ClientConn, reason: 'replaced' | 'revoked'): void {
    client.endReason = reason;
    const code = reason === 'replaced' ? 'TUN_ERR_SESSION_REPLACED' : 'TUN_ERR_TOKEN_REVOKED';
    this.refusals[code] = (this.refusals[code] ?? 0) + 1;
    this.log.warn(
      { client: client.hello.clientId, session: client.sessionId, code },
      reason === 'replaced'
        ? 'session replaced by a new process with the same id: draining it'
        : 'token no longer valid: draining the session',
    );
    // Out of rotation at once, so new requests go to the replacement (or elsewhere).
    this.router.remove(client);
    void client.session
      .goAway(this.opts.drainTimeoutMs, reason === 'replaced' ? ResetCode.SESSION_REPLACED : ResetCode.TOKEN_REVOKED)
      .then(() => client.session.close());
  }

  private refused(err: HandshakeError, retryAfterS?: number): Refused {
    this.refusals[err.code] = (this.refusals[err.code] ?? 0) + 1;
    return { ok: false, status: err.status, code: err.code, message: err.message, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
  }
}
