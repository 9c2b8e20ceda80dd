import { Socket } from 'node:net';

/**
 * The private parts of node's TCP handle that moving a connection into a new `net.Socket` relies
 * on. Present in node 20, 22 and 24 (checked by socket-internals.test.ts on every node the
 * suites run on).
 */
export interface TcpHandle {
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  reading: boolean;
}

/** The private fields of node's net.Socket that move with the connection. */
export interface SocketInternals {
  _handle: TcpHandle | null;
  /** The server that accepted it: counts it until it closes (server.close() waits for that). */
  _server: unknown;
}

/** Code of the process warning emitted when node's internals are not as {@link adoptionBlocker} expects. */
export const NODE_INTERNALS_WARNING_CODE = 'TUNNEL_NODE_INTERNALS';

/**
 * Why this node's internals do not allow moving `socket`'s TCP handle into a new `net.Socket`,
 * or undefined when they do. Only a change in node counts here (a missing or renamed private
 * field); a TLS socket or one with a write in flight is a normal reason not to adopt, checked by
 * the caller. Checked before anything is touched, so a refusal leaves the socket as it was.
 */
export function adoptionBlocker(socket: Socket): string | undefined {
  if (!('_handle' in socket)) return 'net.Socket has no _handle field';
  if (!('_server' in socket)) return 'net.Socket has no _server field (the accepting server would never see the connection close)';
  const handle = (socket as unknown as SocketInternals)._handle;
  if (handle === null || typeof handle !== 'object') return undefined; // closed: nothing to adopt, not a change in node
  for (const method of ['readStop', 'readStart', 'useUserBuffer'] as const) {
    if (typeof (handle as unknown as Record<string, unknown>)[method] !== 'function') return `the TCP handle has no ${method}()`;
  }
  if (typeof handle.reading !== 'boolean') return 'the TCP handle has no boolean `reading` field';
  return undefined;
}

let warned = false;

/**
 * Says once per process, as a process warning (printed on stderr unless warnings are off), that
 * this node changed the internals pooled reads rely on and that sockets keep node's own
 * (copying) reads: correct, only slower.
 */
export function warnInternalsChanged(reason: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    `node ${process.version}: ${reason}; accepted sockets keep node's own reads (copied, correct, slower). ` +
      'Run the tunnel on a supported node (22 or 24) or report it.',
    { code: NODE_INTERNALS_WARNING_CODE },
  );
}
