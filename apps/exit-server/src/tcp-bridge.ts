import type { Socket } from 'node:net';
import { ResetCode, type TunnelStream } from '@tunnel/tunnel-protocol';
import { pipeToSocket, pipeToStream } from '@tunnel/tunnel-io';

/** Counters one bridged connection reports when it ends. */
export interface BridgeResult {
  /** Bytes from the public client to the tunnel. */
  readonly bytesIn: number;
  /** Bytes from the tunnel to the public client. */
  readonly bytesOut: number;
  /** Lifetime of the connection, ms. */
  readonly durationMs: number;
  /** True when it ended with a reset on either side rather than two FINs. */
  readonly reset: boolean;
  /** True when it was closed for being idle (--tcp-idle-timeout). */
  readonly idle: boolean;
}

/**
 * Joins a public TCP socket and a tunnel stream: bytes both ways with backpressure, FIN in one
 * direction is passed on as FIN (half-close), a reset on either side resets the other. With no
 * byte either way for `idleTimeoutMs` (0: never), both are reset, so an idle connection cannot
 * hold a stream and the edge client's upstream socket forever.
 */
export function bridge(socket: Socket, stream: TunnelStream, idleTimeoutMs: number, done: (r: BridgeResult) => void): void {
  const started = Date.now();
  let reset = false;
  let idle = false;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    // Public side's view: what came in from the socket went out on the stream, and back.
    done({ bytesIn: stream.bytesOut, bytesOut: stream.bytesIn, durationMs: Date.now() - started, reset, idle });
  };
  socket.setNoDelay(true);
  if (idleTimeoutMs > 0) {
    // Socket activity both ways restarts it (node refreshes the timer on every read and write).
    socket.setTimeout(idleTimeoutMs, () => {
      idle = true;
      reset = true;
      if (!stream.destroyed) stream.reset(ResetCode.CANCEL);
      socket.destroy();
    });
  }
  pipeToStream(socket, stream);
  pipeToSocket(stream, socket);
  socket.on('error', () => {
    reset = true;
    if (!stream.destroyed) stream.reset(ResetCode.CANCEL);
  });
  socket.on('close', () => {
    if (!stream.destroyed && !(stream.writableFinished && stream.readableEnded)) {
      reset = true;
      stream.reset(ResetCode.CANCEL);
    }
    finish();
  });
  stream.on('error', () => {
    reset = true;
    if (!socket.destroyed) socket.resetAndDestroy();
    finish();
  });
}
