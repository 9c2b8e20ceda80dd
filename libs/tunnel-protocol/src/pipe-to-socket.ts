import { leaseReadBuffer } from './read-pool.ts';
import type { TunnelStream } from './stream.ts';
import { tickCorker } from './tick-cork.ts';

/** The parts of a writable socket {@link pipeToSocket} uses (node's `net.Socket` fits). */
export interface CorkableSocketLike {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  cork(): void;
  uncork(): void;
  on(event: 'drain', listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableNeedDrain: boolean;
}

/**
 * Pipes a stream's bytes into a socket, like `stream.pipe(socket)` but as the stream's sink and
 * corked per tick: the pieces one tunnel read yields for this stream (a DATA frame is handed on
 * in pieces when it straddles reads) leave in one writev instead of one syscall each. A borrowed
 * read buffer is leased until the socket has written it, or copied once the socket is backed up
 * (a slow reader must not pin pooled buffers). Backpressure: while the socket's buffer is full the
 * stream's credit is withheld from the peer. The stream's end ends the socket (half-close).
 */
export function pipeToSocket(stream: TunnelStream, socket: CorkableSocketLike): void {
  const corkForTick = tickCorker(socket);
  stream.setSink({
    write(chunk) {
      if (socket.destroyed) return true;
      corkForTick();
      if (socket.writableNeedDrain) return socket.write(Buffer.from(chunk));
      return socket.write(chunk, leaseReadBuffer(chunk));
    },
  });
  socket.on('drain', () => stream.sinkDrained());
  stream.on('end', () => {
    if (!socket.destroyed) socket.end();
  });
}
