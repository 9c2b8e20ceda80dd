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
  return new RawWebSocketTransport(raw, opts);
}

/** Close codes after which the session reports no error: normal, going away, and no code given. */
const CLEAN_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);

class RawWebSocketTransport implements Transport {
  private readonly socket: RawSocketLike;
  /** Clients mask (with a zero key), servers do not. */
  private readonly masked: boolean;
  private readonly pongMark: number;
  private handlers: TransportHandlers | undefined;
  private closed = false;
  private closeSent = false;
  private closeError: Error | undefined;
  /** The latest ping not answered yet because the peer is not reading (RFC 6455 5.5.3 lets us answer only the latest). */
  private owedPong: Buffer | undefined;

  constructor(
    raw: RawSocketLike,
    private readonly opts: RawWebSocketOptions,
  ) {
    // Over TLS every write must reach node as one buffer (see coalesceTls).
    this.socket = isTlsSocket(raw) ? coalesceTls(raw as RawSocketWithMark) : raw;
    this.masked = opts.role === 'client';
    this.pongMark = opts.pongHighWaterMark ?? 64 * 1024;
  }

  bind(h: TransportHandlers): void {
    const { socket } = this;
    this.handlers = h;
    const decoder = new WsFrameDecoder(!this.masked, {
      data: (payload) => h.data(payload),
      control: (opcode, payload) => this.onControl(opcode, payload),
    });
    const feed = (chunk: Buffer) => {
      if (this.closed) return;
      try {
        decoder.push(chunk);
      } catch (err) {
        this.sendClose(1002, 'protocol error');
        this.finish(err as Error);
      }
    };
    socket.on('data', feed);
    socket.on('drain', () => {
      this.sendOwedPong();
      h.drain();
    });
    socket.on('end', () => {
      if (!this.closeSent) socket.end();
    });
    socket.on('error', (err) => {
      this.finish(err);
      socket.destroy();
    });
    socket.on('close', () =>
      this.finish(
        this.closeSent || this.closeError ? this.closeError : new TransportClosedError('TUN_ERR_CONNECTION_LOST', 1006, 'connection lost'),
      ),
    );
    // Bytes that came with the handshake go first, once the session has finished binding.
    const head = this.opts.head;
    if (head && head.length > 0) queueMicrotask(() => feed(head));
  }

  write(chunks: readonly Buffer[], written?: () => void): boolean {
    const { socket } = this;
    if (this.closed || this.closeSent || socket.destroyed) {
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
    socket.write(encodeWsHeader(WsOpcode.BINARY, total, this.masked));
    // Chunks leave in order: the last one's callback means all of them were written.
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i]);
    socket.write(chunks[last], written);
    socket.uncork();
    return !socket.writableNeedDrain;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(code?: number, reason?: string): void {
    if (this.closed && this.closeSent) return;
    // 1006 means the link is dead: a close handshake would only wait out its timeout.
    if (code === 1006) {
      this.socket.destroy();
      return;
    }
    this.sendClose(code ?? 1000, reason);
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.close(err);
  }

  private sendClose(code: number, reason?: string): void {
    const { socket } = this;
    if (this.closeSent || socket.destroyed) return;
    this.closeSent = true;
    socket.write(encodeWsControl(WsOpcode.CLOSE, encodeWsClosePayload(code, reason), this.masked));
    socket.end();
    // A peer that never closes its side must not hold the socket forever.
    setTimeout(() => socket.destroy(), this.opts.closeTimeoutMs ?? 2000).unref?.();
  }

  private sendOwedPong(): void {
    const payload = this.owedPong;
    this.owedPong = undefined;
    if (payload && !this.closeSent && !this.socket.destroyed) this.socket.write(encodeWsControl(WsOpcode.PONG, payload, this.masked));
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === WsOpcode.PING) {
      // A peer that pings without reading must not grow the write buffer: while it is backed
      // up, only the latest ping is remembered and answered once the socket drains.
      this.owedPong = payload;
      if (this.socket.writableLength < this.pongMark) this.sendOwedPong();
      return;
    }
    if (opcode !== WsOpcode.CLOSE) return;
    // Throws for codes no peer may send (1005, 1006, 1015, reserved ones): the decoder's caller
    // answers 1002, so a bad code is never echoed.
    const { code, reason } = readClosePayload(payload);
    if (!CLEAN_CLOSE_CODES.has(code)) this.closeError = new TransportClosedError('TUN_ERR_PEER_CLOSED', code, reason);
    this.sendClose(code === 1005 ? 1000 : code);
    this.finish(this.closeError);
  }
}
