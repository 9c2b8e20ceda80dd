import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkBearer, stripV4Mapped } from '@tunnel/tunnel-protocol';
import type { AuthRateLimit } from './auth-rate-limit.ts';

/** Outcome of checking a request against the admin token. */
export type AdminAuthOutcome =
  /** The bearer is the admin token. */
  | { readonly state: 'allowed' }
  /** No admin token is configured: every admin endpoint is closed (403). */
  | { readonly state: 'disabled' }
  /** Missing or wrong bearer, client tokens included (401). */
  | { readonly state: 'refused' };

/**
 * Checks an `Authorization` header against the admin token, in constant time. The admin token is
 * distinct from every client token (the config refuses equal ones), so a client token is refused
 * like any wrong one.
 */
export function checkAdmin(header: string | undefined, adminToken: string | undefined): AdminAuthOutcome {
  if (adminToken === undefined) return { state: 'disabled' };
  return checkBearer(header, adminToken) ? { state: 'allowed' } : { state: 'refused' };
}

/** Body of the 403 answered while no admin token is configured: it says how to set one. */
export const ADMIN_DISABLED_MESSAGE =
  'admin endpoints are disabled: no admin token is configured; set env TUNNEL_ADMIN_TOKEN (or --admin-token-env NAME / --admin-token-file PATH) on the exit server, distinct from every client token';

/** Body of the 401 answered for a missing or wrong admin token. */
export const ADMIN_REFUSED_MESSAGE = 'send the admin token (not a client token) as a bearer token';

/** Called for every refused admin request (logging, counting, rate limiting). */
export type AdminRefusalHook = (req: FastifyRequest, outcome: Exclude<AdminAuthOutcome, { state: 'allowed' }>) => void;

/**
 * A Fastify `preHandler` that admits only requests bearing the admin token. Register every admin
 * route (/status, /metrics, /ui...) with it: `app.get('/metrics', { preHandler: guard }, handler)`.
 * `adminToken` is a getter so a re-read token takes effect at once.
 */
export function adminGuard(adminToken: () => string | undefined, onRefused?: AdminRefusalHook, rateLimit?: AuthRateLimit) {
  return async function requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const remote = stripV4Mapped(req.socket.remoteAddress ?? '');
    const limited = rateLimit?.check(remote);
    if (limited?.state === 'limited') {
      await reply
        .code(429)
        .header('retry-after', String(limited.retryAfterS))
        .header('x-tunnel-error', 'TUN_ERR_RATE_LIMITED')
        .send({ error: 'TUN_ERR_RATE_LIMITED', message: `too many failed attempts from this address; retry in ${limited.retryAfterS} s` });
      return;
    }
    const outcome = checkAdmin(req.headers.authorization, adminToken());
    if (outcome.state === 'allowed') return;
    if (outcome.state === 'refused') rateLimit?.failed(remote);
    onRefused?.(req, outcome);
    if (outcome.state === 'disabled') {
      await reply
        .code(403)
        .header('x-tunnel-error', 'TUN_ERR_ADMIN_DISABLED')
        .send({ error: 'TUN_ERR_ADMIN_DISABLED', message: ADMIN_DISABLED_MESSAGE });
      return;
    }
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .header('x-tunnel-error', 'TUN_ERR_ADMIN_AUTH')
      .send({ error: 'TUN_ERR_ADMIN_AUTH', message: ADMIN_REFUSED_MESSAGE });
  };
}
