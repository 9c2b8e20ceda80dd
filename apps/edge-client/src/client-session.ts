import type { Socket } from 'node:net';
import type { EdgeClientConfig } from '@tunnel/config';
import { Session, clientLimits, type Logger, type TunnelStream, type Welcome } from '@tunnel/tunnel-protocol';
import { rawWebSocketTransport, readIntoPool, systemClock, type ReadBufferPool } from '@tunnel/tunnel-io';

/** What a client session needs besides the upgraded socket and the welcome. */
export interface ClientSessionOptions {
  /** The keep-alive and reply-queue settings are this client's own. */
  readonly config: Pick<EdgeClientConfig, 'pingInterval' | 'idleTimeout' | 'maxQueuedReplies'>;
  /** Pooled read buffers; without it each read allocates. */
  readonly readPool: ReadBufferPool | undefined;
  /** The session's logger. */
  readonly log: Logger;
  /** Serves each stream the server opens. */
  readonly onStream: (stream: TunnelStream) => void;
}

/**
 * The session over a connection the exit server upgraded (`head`: bytes that came with the
 * 101): frame and stream limits are the welcome's, keep-alive and queue limits this client's.
 */
export function openClientSession(socket: Socket, head: Buffer, welcome: Welcome, opts: ClientSessionOptions): Session {
  const conn = readIntoPool(socket, opts.readPool, head);
  return new Session({
    clock: systemClock,
    role: 'client',
    transport: rawWebSocketTransport(conn.socket, { role: 'client', head: conn.head }),
    // Frame, head, window and stream limits are the server's; keep-alive and queue ours.
    limits: clientLimits(welcome, {
      pingIntervalMs: opts.config.pingInterval,
      idleTimeoutMs: opts.config.idleTimeout,
      maxQueuedReplies: opts.config.maxQueuedReplies,
    }),
    logger: opts.log,
    onStream: opts.onStream,
  });
}
