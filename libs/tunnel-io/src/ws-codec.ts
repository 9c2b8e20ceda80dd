import { ProtocolError, readNow, type Borrowed } from '@tunnel/tunnel-protocol';

/** WebSocket opcodes (RFC 6455 section 5.2). */
export const WsOpcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** What a {@link WsFrameDecoder} reports. */
export interface WsFrameHandlers {
  /** Payload bytes of binary/continuation frames, unmasked, in order (views of the input: borrowed when it was); message boundaries are not reported. */
  data(payload: Borrowed): void;
  /** A whole control frame (close, ping, pong) with its payload. */
  control(opcode: number, payload: Buffer): void;
}

/** Largest control-frame payload, bytes (RFC 6455 5.5). */
const MAX_CONTROL_BYTES = 125;

const ZERO_MASK = Buffer.alloc(4);

/**
 * True for a close code a peer may send (RFC 6455 7.4): 1000-1003, 1007-1014, 3000-4999.
 * 1004 is reserved, and 1005, 1006 and 1015 are for reporting only, never for the wire.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * Reads a close frame's payload: its code (1005 "none given" when empty). Throws
 * {@link ProtocolError} for a one-byte payload or a code no peer may send, which the transport
 * answers with 1002 instead of echoing it.
 */
export function readClosePayload(payload: Buffer): { code: number; reason: string } {
  if (payload.length === 0) return { code: 1005, reason: '' };
  if (payload.length === 1) throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket close frame with a one-byte payload');
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) throw new ProtocolError('TUN_ERR_PROTOCOL', `websocket close code ${code} may not be sent`);
  return { code, reason: payload.subarray(2).toString() };
}

/**
 * The header of one WebSocket frame carrying `length` payload bytes. A client must mask
 * (`masked`): it uses the all-zero key, so the payload goes out unchanged and uncopied; the
 * mask protects browsers' traffic from cache poisoning, and an edge client is not a browser.
 */
export function encodeWsHeader(opcode: number, length: number, masked: boolean): Buffer {
  const extra = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + extra + (masked ? 4 : 0));
  out[0] = 0x80 | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (extra === 0) out[1] = maskBit | length;
  else if (extra === 2) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  if (masked) ZERO_MASK.copy(out, 2 + extra);
  return out;
}

/** A whole control frame (close/ping/pong); `payload` at most 125 bytes. */
export function encodeWsControl(opcode: number, payload: Buffer, masked: boolean): Buffer {
  return Buffer.concat([encodeWsHeader(opcode, payload.length, masked), payload]);
}

/** The payload of a close frame: status code and a short reason. */
export function encodeWsClosePayload(code: number, reason = ''): Buffer {
  const text = Buffer.from(reason.slice(0, 120));
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

const enum S {
  Head,
  Payload,
}

/**
 * Streaming WebSocket frame decoder that never reassembles data: payload bytes are handed on as
 * slices of the input (copied only to unmask a non-zero key), so a large message costs no
 * buffering. It never keeps a slice of the input past `push()` (the input may be a borrowed read
 * buffer, see ReadBufferPool); our own frame decoder sits on top and sees a plain byte stream.
 * Control frames are bounded to 125 bytes and buffered whole. Throws {@link ProtocolError} on anything RFC
 * 6455 forbids or we do not speak (text frames, extensions).
 */
export class WsFrameDecoder {
  private state = S.Head;
  private head: Buffer | undefined;
  private remaining = 0;
  private opcode = 0;
  private mask: Buffer | undefined;
  private maskOffset = 0;
  private control: Buffer[] = [];
  private failed = false;
  /** A data message was started without FIN: the next data frame must be its continuation. */
  private inMessage = false;

  /**
   * @param expectMasked True on the server side: every client frame must be masked.
   * @param handlers Receivers of payload and control frames.
   */
  constructor(
    private readonly expectMasked: boolean,
    private readonly handlers: WsFrameHandlers,
  ) {}

  /** Feeds socket bytes (borrowed or not: nothing of them is kept past the call). */
  push(chunk: Borrowed): void {
    if (this.failed) throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket decoder used after an error');
    try {
      this.run(readNow(chunk));
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private run(chunk: Buffer): void {
    let data = chunk;
    let off = 0;
    if (this.head) {
      data = Buffer.concat([this.head, chunk]);
      this.head = undefined;
    }
    while (off < data.length) {
      if (this.state === S.Payload) {
        const take = Math.min(this.remaining, data.length - off);
        this.payload(data.subarray(off, off + take));
        off += take;
        this.remaining -= take;
        if (this.remaining === 0) this.frameDone();
        continue;
      }
      const need = this.headerBytes(data, off);
      if (need < 0 || data.length - off < need) {
        // A copy: the input may be a borrowed read buffer (at most 13 bytes are kept).
        this.head = Buffer.from(data.subarray(off));
        return;
      }
      off = this.parseHeader(data, off, need);
      if (this.remaining === 0) this.frameDone();
    }
  }

  /** Header size of the frame at `off`, or -1 when even the first two bytes are missing. */
  private headerBytes(data: Buffer, off: number): number {
    if (data.length - off < 2) return -1;
    const len7 = data[off + 1] & 0x7f;
    const masked = (data[off + 1] & 0x80) !== 0;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  }

  private parseHeader(data: Buffer, off: number, size: number): number {
    const b0 = data[off];
    const b1 = data[off + 1];
    if ((b0 & 0x70) !== 0) throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket frame with reserved bits (no extension was negotiated)');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.expectMasked)
      throw new ProtocolError(
        'TUN_ERR_PROTOCOL',
        masked ? 'masked websocket frame from the server' : 'unmasked websocket frame from a client',
      );
    let length = b1 & 0x7f;
    let p = off + 2;
    if (length === 126) {
      length = data.readUInt16BE(p);
      p += 2;
    } else if (length === 127) {
      const high = data.readUInt32BE(p);
      if (high > 0x1fffff) throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket frame length beyond 2^53');
      length = high * 0x100000000 + data.readUInt32BE(p + 4);
      p += 8;
    }
    const control = opcode >= 0x8;
    if (control) {
      if (opcode !== WsOpcode.CLOSE && opcode !== WsOpcode.PING && opcode !== WsOpcode.PONG)
        throw new ProtocolError('TUN_ERR_PROTOCOL', `websocket opcode ${opcode}`);
      if (!fin || length > MAX_CONTROL_BYTES)
        throw new ProtocolError('TUN_ERR_PROTOCOL', 'fragmented or oversized websocket control frame');
    } else if (opcode === WsOpcode.TEXT) {
      throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket text frame: the tunnel speaks binary only');
    } else if (opcode === WsOpcode.CONTINUATION) {
      if (!this.inMessage) throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket continuation frame with no message to continue');
      this.inMessage = !fin;
    } else if (opcode === WsOpcode.BINARY) {
      if (this.inMessage) throw new ProtocolError('TUN_ERR_PROTOCOL', 'websocket binary frame inside an unfinished message');
      this.inMessage = !fin;
    } else {
      throw new ProtocolError('TUN_ERR_PROTOCOL', `websocket opcode ${opcode}`);
    }
    this.opcode = opcode;
    this.remaining = length;
    this.maskOffset = 0;
    this.mask = undefined;
    if (masked) {
      const key = data.subarray(p, p + 4);
      if (key[0] | key[1] | key[2] | key[3]) this.mask = Buffer.from(key);
      p += 4;
    }
    this.state = S.Payload;
    return off + size;
  }

  private payload(slice: Buffer): void {
    let bytes = slice;
    if (this.mask) {
      bytes = Buffer.allocUnsafe(slice.length);
      const m = this.mask;
      for (let i = 0; i < slice.length; i++) bytes[i] = slice[i] ^ m[(this.maskOffset + i) & 3];
      this.maskOffset = (this.maskOffset + slice.length) & 3;
    }
    // Control payloads are kept until their frame ends: copied, as the input may be borrowed.
    if (this.opcode >= 0x8) this.control.push(bytes === slice ? Buffer.from(slice) : bytes);
    else if (bytes.length > 0) this.handlers.data(bytes);
  }

  private frameDone(): void {
    this.state = S.Head;
    if (this.opcode >= 0x8) {
      const payload = this.control.length === 1 ? this.control[0] : Buffer.concat(this.control);
      this.control = [];
      this.handlers.control(this.opcode, payload);
    }
  }
}
