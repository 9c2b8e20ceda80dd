import { checkBearer } from './auth.ts';
import { HandshakeError, TunnelError } from './errors.ts';
import { PROTOCOL_VERSION } from './frame.ts';
import { HELLO_HEADER, TUNNEL_PATH, decodeHello, type Hello } from './handshake.ts';

/** The parts of an upgrade request the check reads (node's IncomingMessage fits). */
export interface UpgradeRequestLike {
  readonly method?: string;
  readonly url?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Decides whether an `Authorization` header holds a valid token (constant time is the caller's
 * duty); lets a server with several tokens or identities plug in its own check.
 */
export type BearerCheck = (authorization: string | undefined) => boolean;

/** Outcome of {@link checkUpgradeRequest}. */
export type UpgradeCheck = { readonly ok: true; readonly hello: Hello } | { readonly ok: false; readonly error: HandshakeError };

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v;
}

/**
 * Decides whether an upgrade request may become a tunnel session, before the upgrade completes.
 * Order matters: the token is checked before the hello is even parsed, so an unauthenticated
 * peer learns nothing but 401. Never throws; never echoes the token.
 */
export function checkUpgradeRequest(req: UpgradeRequestLike, token: string | BearerCheck, version = PROTOCOL_VERSION): UpgradeCheck {
  try {
    if (req.method !== 'GET') throw new HandshakeError('TUN_ERR_BAD_UPGRADE', 405, 'method must be GET');
    const path = (req.url ?? '').split('?')[0];
    if (path !== TUNNEL_PATH) throw new HandshakeError('TUN_ERR_BAD_UPGRADE', 404, `tunnel path is ${TUNNEL_PATH}`);
    const upgrade = single(req.headers.upgrade);
    if (!upgrade || upgrade.toLowerCase() !== 'websocket') throw new HandshakeError('TUN_ERR_BAD_UPGRADE', 400, 'not a WebSocket upgrade');
    const authorization = single(req.headers.authorization);
    const authorized = typeof token === 'string' ? checkBearer(authorization, token) : token(authorization);
    if (!authorized) throw new HandshakeError('TUN_ERR_AUTH', 401);
    return { ok: true, hello: decodeHello(single(req.headers[HELLO_HEADER]), version) };
  } catch (err) {
    if (err instanceof HandshakeError) return { ok: false, error: err };
    const e = new HandshakeError('TUN_ERR_BAD_HELLO', 400, err instanceof TunnelError ? err.message : 'malformed upgrade request');
    return { ok: false, error: e };
  }
}
