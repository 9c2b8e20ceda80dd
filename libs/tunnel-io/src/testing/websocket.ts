import { TransportClosedError, type Transport, type TransportHandlers } from '@tunnel/tunnel-protocol';

/**
 * The parts of a `ws` WebSocket the adapter uses. Typed structurally so the protocol library
 * does not depend on `ws`; any `ws` client or server-side socket fits.
 */
export interface WebSocketLike {
  send(data: Buffer, options: { binary: boolean; compress: boolean }, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly bufferedAmount: number;
  readonly readyState: number;
}

interface SocketLike {
  cork(): void;
  uncork(): void;
  on(event: 'drain', listener: () => void): unknown;
  readonly writableLength: number;
  readonly writableNeedDrain?: boolean;
}

const OPEN = 1;
const SEND_OPTS = { binary: true, compress: false };

/**
 * Turns a WebSocket into a session transport: every chunk is one binary message; a batch of
 * chunks is corked so it leaves in one syscall. Message boundaries carry no meaning.
 */
export function webSocketTransport(ws: WebSocketLike): Transport {
  // `ws` exposes no drain event; its underlying socket does. This is the one place that reaches in.
  const socket = (ws as unknown as { _socket?: SocketLike })._socket;
  let handlers: TransportHandlers | undefined;
  let closed = false;

  const finish = (err?: Error) => {
    if (closed) return;
    closed = true;
    handlers?.close(err);
  };

  return {
    bind(h) {
      handlers = h;
      ws.on('message', (data) => {
        if (Buffer.isBuffer(data)) h.data(data);
        else if (Array.isArray(data)) h.data(Buffer.concat(data));
        else h.data(Buffer.from(data));
      });
      ws.on('close', (code, reason) =>
        finish(
          code === 1000 || code === 1001
            ? undefined
            : new TransportClosedError(code === 1006 ? 'TUN_ERR_CONNECTION_LOST' : 'TUN_ERR_PEER_CLOSED', code, reason.toString()),
        ),
      );
      ws.on('error', (err) => finish(err));
      socket?.on('drain', () => h.drain());
    },
    write(chunks, written) {
      if (ws.readyState !== OPEN) {
        written?.();
        return false;
      }
      socket?.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) ws.send(chunks[i], SEND_OPTS);
      if (last >= 0) ws.send(chunks[last], SEND_OPTS, () => written?.());
      else written?.();
      socket?.uncork();
      return socket ? !socket.writableNeedDrain : true;
    },
    get bufferedBytes() {
      return ws.bufferedAmount;
    },
    pause() {
      ws.pause();
    },
    resume() {
      ws.resume();
    },
    close(code, reason) {
      if (ws.readyState !== OPEN) return;
      // 1006 means the link is dead: a close handshake would only wait out its timeout.
      if (code === 1006) ws.terminate();
      else ws.close(code ?? 1000, reason);
    },
  };
}
