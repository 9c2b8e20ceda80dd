import { TransportClosedError, type Transport, type TransportHandlers } from '@tunnel/tunnel-protocol';
import { coalesceTls, isTlsSocket } from './coalesced-tls.ts';
import { WsFrameDecoder, WsOpcode, encodeWsClosePayload, encodeWsControl, encodeWsHeader, readClosePayload } from './ws-codec.ts';

/** The parts of a connected socket (node's `net.Socket` or `tls.TLSSocket`) the transport uses. */
export interface RawSocketLike {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(): void;
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'drain' | 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
}

/** A {@link RawSocketLike} that also reports its write high-water mark (node's sockets do). */
export interface RawSocketWithMark extends RawSocketLike {
  /** Bytes buffered beyond which a write returns false. */
  readonly writableHighWaterMark: number;
}

/** Settings of {@link rawWebSocketTransport}. */
export interface RawWebSocketOptions {
  /** Which end of the WebSocket this is: clients mask (zero key), servers do not. */
  readonly role: 'client' | 'server';
  /** Bytes that arrived with the handshake, after its head. */
  readonly head?: Buffer;
  /** After sending a close frame, wait this long for the peer to close the TCP connection, ms. */
  readonly closeTimeoutMs?: number;
  /** Answer a WebSocket ping at once only while fewer bytes than this wait to be written, bytes; default 64 KiB. */
  readonly pongHighWaterMark?: number;
}

/**
 * A session transport straight on the socket of a completed WebSocket handshake: standard RFC
 * 6455 framing on the wire (so it crosses an ALB and reverse proxies), without a WebSocket
 * library in the data path. A write batch leaves as ONE binary frame in one corked write;
 * received payloads reach the session as slices of the socket's reads, never reassembled into
 * messages (message boundaries carry no meaning here). Pings are answered, close frames
 * exchanged with their codes (1000 normal, 1002 protocol error).
 */
export function rawWebSocketTransport(raw: RawSocketLike, opts: RawWebSocketOptions): Transport {
  // Over TLS every write must reach node as one buffer (see coalesceTls).
  const socket = isTlsSocket(raw) ? coalesceTls(raw as RawSocketWithMark) : raw;
  const masked = opts.role === 'client';
  let handlers: TransportHandlers | undefined;
  let closed = false;
  let closeSent = false;
  let closeError: Error | undefined;

  const finish = (err?: Error) => {
    if (closed) return;
    closed = true;
    handlers?.close(err);
  };

  const sendClose = (code: number, reason?: string) => {
    if (closeSent || socket.destroyed) return;
    closeSent = true;
    socket.write(encodeWsControl(WsOpcode.CLOSE, encodeWsClosePayload(code, reason), masked));
    socket.end();
    // A peer that never closes its side must not hold the socket forever.
    setTimeout(() => socket.destroy(), opts.closeTimeoutMs ?? 2000).unref?.();
  };

  const pongMark = opts.pongHighWaterMark ?? 64 * 1024;
  /** The latest ping not answered yet because the peer is not reading (RFC 6455 5.5.3 lets us answer only the latest). */
  let owedPong: Buffer | undefined;
  const sendOwedPong = () => {
    const payload = owedPong;
    owedPong = undefined;
    if (payload && !closeSent && !socket.destroyed) socket.write(encodeWsControl(WsOpcode.PONG, payload, masked));
  };

  const onControl = (opcode: number, payload: Buffer) => {
    if (opcode === WsOpcode.PING) {
      // A peer that pings without reading must not grow the write buffer: while it is backed
      // up, only the latest ping is remembered and answered once the socket drains.
      owedPong = payload;
      if (socket.writableLength < pongMark) sendOwedPong();
      return;
    }
    if (opcode !== WsOpcode.CLOSE) return;
    // Throws for codes no peer may send (1005, 1006, 1015, reserved ones): the decoder's caller
    // answers 1002, so a bad code is never echoed.
    const { code, reason } = readClosePayload(payload);
    if (code !== 1000 && code !== 1001 && code !== 1005) {
      closeError = new TransportClosedError('TUN_ERR_PEER_CLOSED', code, reason);
    }
    sendClose(code === 1005 ? 1000 : code);
    finish(closeError);
  };

  return {
    bind(h) {
      handlers = h;
      const decoder = new WsFrameDecoder(!masked, { data: (payload) => h.data(payload), control: onControl });
      const feed = (chunk: Buffer) => {
        if (closed) return;
        try {
          decoder.push(chunk);
        } catch (err) {
          sendClose(1002, 'protocol error');
          finish(err as Error);
        }
      };
      socket.on('data', feed);
      socket.on('drain', () => {
        sendOwedPong();
        h.drain();
      });
      socket.on('end', () => {
        if (!closeSent) socket.end();
      });
      socket.on('error', (err) => {
        finish(err);
        socket.destroy();
      });
      socket.on('close', () =>
        finish(closeSent || closeError ? closeError : new TransportClosedError('TUN_ERR_CONNECTION_LOST', 1006, 'connection lost')),
      );
      // Bytes that came with the handshake go first, once the session has finished binding.
      const head = opts.head;
      if (head && head.length > 0) queueMicrotask(() => feed(head));
    },
    write(chunks, written) {
      if (closed || closeSent || socket.destroyed) {
        written?.();
        return false;
      }
      let total = 0;
      for (const c of chunks) total += c.length;
      if (total === 0) {
        written?.();
        return true;
      }
      socket.cork();
      socket.write(encodeWsHeader(WsOpcode.BINARY, total, masked));
      // Chunks leave in order: the last one's callback means all of them were written.
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) socket.write(chunks[i]);
      socket.write(chunks[last], written);
      socket.uncork();
      return !socket.writableNeedDrain;
    },
    get bufferedBytes() {
      return socket.writableLength;
    },
    pause() {
      socket.pause();
    },
    resume() {
      socket.resume();
    },
    close(code, reason) {
      if (closed && closeSent) return;
      // 1006 means the link is dead: a close handshake would only wait out its timeout.
      if (code === 1006) {
        socket.destroy();
        return;
      }
      sendClose(code ?? 1000, reason);
    },
  };
}
