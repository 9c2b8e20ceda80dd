import type { ClientConn } from './client-conn.ts';

/** What to do with a new session given the sessions held for the same client id. */
export type ConflictDecision =
  /** No session with this id, or the hello has no nonce (older clients): just accept. */
  | { readonly kind: 'none' }
  /** Same process (same nonce): a duplicate if the held session is alive. */
  | { readonly kind: 'same-process'; readonly held: ClientConn }
  /** Other processes with the same id: the new one replaces them (they are drained). */
  | { readonly kind: 'replace'; readonly held: readonly ClientConn[] };

/**
 * Decides how a new session (client `id`, process `nonce`) relates to the held ones; see the
 * `nonce` field of the hello for the rules. Pure: the caller probes and drains.
 */
export function decideConflict(clients: Iterable<ClientConn>, id: string, nonce: string | undefined): ConflictDecision {
  if (nonce === undefined) return { kind: 'none' };
  const sameId = [...clients].filter((c) => c.hello.clientId === id && !c.session.isClosed && !c.replaced);
  const same = sameId.find((c) => c.hello.nonce === nonce);
  if (same) return { kind: 'same-process', held: same };
  const others = sameId.filter((c) => c.hello.nonce !== undefined);
  return others.length === 0 ? { kind: 'none' } : { kind: 'replace', held: others };
}

/** Time a held session has to answer a PING before it is taken for dead, ms. */
export const LIVENESS_PROBE_MS = 2000;

/**
 * Resolves true if the session is alive: heard from within `recentMs` (no round trip needed, so a
 * loaded machine never mistakes a slow but healthy session for a dead one), or answering a PING
 * within `timeoutMs`; false otherwise or on close.
 */
export function probeLiveness(client: ClientConn, recentMs: number, timeoutMs = LIVENESS_PROBE_MS): Promise<boolean> {
  const session = client.session;
  if (session.isClosed) return Promise.resolve(false);
  if (session.silentForMs < recentMs) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (alive: boolean) => {
      clearTimeout(timer);
      session.off('rtt', onRtt);
      session.off('close', onClose);
      resolve(alive);
    };
    const onRtt = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    session.on('rtt', onRtt);
    session.on('close', onClose);
    session.ping();
  });
}
