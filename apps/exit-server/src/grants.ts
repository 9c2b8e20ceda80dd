import { HandshakeError, wildcardCovers, type Hello } from '@tunnel/tunnel-protocol';
import type { ClientGrant } from '@tunnel/config';
import type { Identity } from './credentials.ts';

/** What a client is admitted as, after its claims were checked against its grant. */
export interface Admission {
  /** The hello with the identity's id (a granted client's id is its entry's, whatever it declared). */
  readonly hello: Hello;
  /** The id the hello declared, when it differs from the identity (shown in /status and logs). */
  readonly declaredId: string | undefined;
  /** Stream cap for this client (the grant's maxStreams, never above the server's). */
  readonly maxStreams: number;
}

/** True if the grant's hostname patterns cover a declared hostname (exact or `*.` wildcard). */
export function hostnameGranted(patterns: readonly string[], declared: string): boolean {
  for (const p of patterns) {
    if (p === '*' || p === declared || wildcardCovers(p, declared)) return true;
  }
  return false;
}

/** True if the grant's ranges cover a port. */
export function portGranted(grant: ClientGrant, port: number): boolean {
  return grant.tcpPorts.some((r) => port >= r.from && port <= r.to);
}

/**
 * Admits a hello under an identity, or throws {@link HandshakeError} TUN_ERR_GRANT_DENIED (403)
 * naming the first claim outside the grant: the whole handshake is refused, never half-accepted.
 * A shared-token client is admitted as it declared itself. `grantedIds`: every tokens-file id, so
 * a client cannot present another entry's id.
 */
export function admit(hello: Hello, identity: Identity, grantedIds: ReadonlySet<string>, serverMaxStreams: number): Admission {
  if (identity.kind === 'shared') {
    if (grantedIds.has(hello.clientId))
      throw denied(`id "${hello.clientId}" belongs to a tokens-file client; a shared token cannot use it`);
    return { hello, declaredId: undefined, maxStreams: serverMaxStreams };
  }
  const grant = identity.grant;
  if (hello.clientId !== grant.id && grantedIds.has(hello.clientId)) {
    throw denied(`id "${hello.clientId}" belongs to another client; this token is "${grant.id}"`);
  }
  const wantsHttp = hello.capabilities.includes('http');
  if (wantsHttp && hello.hostnames.length === 0 && !grant.hostnames.includes('*')) {
    throw denied(`"${grant.id}" may not serve every hostname (declare its hostnames; the grant has no "*")`);
  }
  for (const name of hello.hostnames) {
    if (!hostnameGranted(grant.hostnames, name)) throw denied(`"${grant.id}" may not serve hostname ${name}`);
  }
  for (const port of hello.tcpPorts) {
    if (!portGranted(grant, port)) throw denied(`"${grant.id}" may not claim TCP port ${port}`);
  }
  return {
    hello: { ...hello, clientId: grant.id },
    declaredId: hello.clientId === grant.id ? undefined : hello.clientId,
    maxStreams: Math.min(grant.maxStreams ?? serverMaxStreams, serverMaxStreams),
  };
}

function denied(detail: string): HandshakeError {
  return new HandshakeError('TUN_ERR_GRANT_DENIED', 403, detail);
}
