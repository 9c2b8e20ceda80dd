import { leaseReadBuffer, type TunnelStream } from '@tunnel/tunnel-protocol';

/** The parts of a readable socket {@link pipeToStream} uses (node's `net.Socket` fits). */
export interface PausableSocketLike {
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/**
 * Pipes a socket's bytes into a stream, like `socket.pipe(stream)`, but each chunk that is a
 * borrowed read buffer (the socket reads through a ReadBufferPool) is leased until the stream and
 * its session are done with it. Backpressure: the socket pauses while the stream is full. The
 * socket's end ends the stream (half-close).
 */
export function pipeToStream(socket: PausableSocketLike, stream: TunnelStream): void {
  socket.on('data', (chunk: Buffer) => {
    if (stream.destroyed) return;
    if (!stream.write(chunk, leaseReadBuffer(chunk))) socket.pause();
  });
  stream.on('drain', () => socket.resume());
  socket.on('end', () => {
    if (!stream.destroyed) stream.end();
  });
}
