import { leaseBytes, ownBytes, type Borrowed, type TunnelStream } from '@tunnel/tunnel-protocol';
import { tickCorker } from './tick-cork.ts';

/** The parts of a writable socket {@link pipeToSocket} uses (node's `net.Socket` fits). */
export interface CorkableSocketLike {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  cork(): void;
  uncork(): void;
  on(event: 'drain', listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableLength: number;
}

/**
 * Write high-water mark for sockets a stream's bytes are written into (public HTTP and TCP-port
 * sockets, the edge client's upstreams and TCP targets), bytes. With node's 16 KiB every DATA
 * frame left the socket "full", so the stream withheld its peer's credit until the socket
 * drained and large bodies went stop-and-go (uploads +13%, edge-client CPU -30% with 256 KiB).
 */
export const SINK_SOCKET_HIGH_WATER_MARK = 256 * 1024;

/**
 * Unwritten bytes past which a socket gets copies instead of leases, bytes. A stream stops
 * crediting its peer once its socket reports full, so a socket holds at most about one stream
 * window (1 MiB) more than its high-water mark; copying only beyond that keeps a fast transfer
 * (whose socket is "full" most of the time) uncopied, while a socket that stalls for good pins
 * no more than this of pooled memory.
 */
export const LEASE_WHILE_UNWRITTEN_BELOW = 1024 * 1024;

/**
 * Writes `chunk` to `socket`: a borrowed read buffer is leased until the socket has written it,
 * or copied when the socket already holds {@link LEASE_WHILE_UNWRITTEN_BELOW} bytes or more.
 * Returns what `socket.write` returns.
 */
export function writeLeased(socket: Pick<CorkableSocketLike, 'write' | 'writableLength'>, chunk: Borrowed): boolean {
  if (socket.writableLength >= LEASE_WHILE_UNWRITTEN_BELOW) return socket.write(ownBytes(chunk));
  const { bytes, release } = leaseBytes(chunk);
  return socket.write(bytes, release);
}

/**
 * Pipes a stream's bytes into a socket, like `stream.pipe(socket)` but as the stream's sink and
 * corked per tick: the pieces one tunnel read yields for this stream (a DATA frame is handed on
 * in pieces when it straddles reads) leave in one writev instead of one syscall each. Borrowed
 * read buffers are leased until written ({@link writeLeased}). Backpressure: while the socket's
 * buffer is full the stream's credit is withheld from the peer. The stream's end ends the socket
 * (half-close). `tap`, when given, sees each chunk (synchronously, before it is written) and
 * must not keep it.
 */
export function pipeToSocket(stream: TunnelStream, socket: CorkableSocketLike, tap?: (chunk: Borrowed) => void): void {
  const corkForTick = tickCorker(socket);
  stream.setSink({
    write(chunk) {
      if (socket.destroyed) return true;
      tap?.(chunk);
      corkForTick();
      return writeLeased(socket, chunk);
    },
  });
  socket.on('drain', () => stream.sinkDrained());
  stream.on('end', () => {
    if (!socket.destroyed) socket.end();
  });
}
