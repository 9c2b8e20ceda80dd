import type { TunnelStream } from './stream.ts';
import { tickCorker } from './tick-cork.ts';

/** The parts of a writable socket {@link pipeToSocket} uses (node's `net.Socket` fits). */
export interface CorkableSocketLike {
  write(chunk: Buffer): boolean;
  end(): void;
  cork(): void;
  uncork(): void;
  on(event: 'drain', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/**
 * Pipes a stream's bytes into a socket, like `stream.pipe(socket)` but corked per tick: the
 * pieces one tunnel read yields for this stream (a DATA frame is handed on in pieces when it
 * straddles reads) leave in one writev instead of one syscall each. Backpressure: the stream
 * pauses while the socket's buffer is full, which withholds the stream's credit from the peer.
 * The stream's end ends the socket (half-close).
 */
export function pipeToSocket(stream: TunnelStream, socket: CorkableSocketLike): void {
  const corkForTick = tickCorker(socket);
  stream.on('data', (chunk: Buffer) => {
    if (socket.destroyed) return;
    corkForTick();
    if (!socket.write(chunk)) stream.pause();
  });
  socket.on('drain', () => stream.resume());
  stream.on('end', () => {
    if (!socket.destroyed) socket.end();
  });
}
