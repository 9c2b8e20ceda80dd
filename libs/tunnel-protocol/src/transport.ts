import type { Borrowed } from './borrowed.ts';

/** What a session needs from the byte stream it runs over (a WebSocket, a socket, an in-memory pipe). */
export interface Transport {
  /**
   * Writes the chunks in order, as one batch where the transport can (one syscall).
   * Returns false when the transport is congested; `drain` fires once it can take more.
   * `written` is called once the chunks are no longer referenced (handed to the OS, copied, or
   * dropped because the transport closed), so buffers lent to this write may be reused.
   */
  write(chunks: readonly Buffer[], written?: () => void): boolean;
  /**
   * Closes the transport; `close` fires once. `code`/`reason` follow WebSocket close codes:
   * 1000 normal, 1002 protocol error, 1006 dead link (drop at once, no handshake).
   */
  close(code?: number, reason?: string): void;
  /** Bytes accepted by `write` but not yet handed to the OS. */
  readonly bufferedBytes: number;
  /** Stops reading: no `data` until {@link resume} (the session's write side is backed up by a peer that does not read). */
  pause(): void;
  /** Reads again after {@link pause}. */
  resume(): void;
  /** Installs the handlers; called once by the session. */
  bind(handlers: TransportHandlers): void;
}

/** Callbacks from a transport to its session. */
export interface TransportHandlers {
  /** Bytes arrived (any split; frames may straddle chunks); may be borrowed: valid during this call only. */
  data(chunk: Borrowed): void;
  /** The transport can take more after `write` returned false. */
  drain(): void;
  /** The transport closed, with the error if it failed. */
  close(err?: Error): void;
}
