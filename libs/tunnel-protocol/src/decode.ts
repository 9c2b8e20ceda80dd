import { LimitError, ProtocolError } from './errors.ts';
import {
  FRAME_HEADER_BYTES,
  FrameHeaderOffset,
  FrameType,
  PING_PAYLOAD_BYTES,
  U32_PAYLOAD_BYTES,
  type Frame,
  type FrameTypeValue,
} from './frame.ts';
import { PEERS_LIMITS } from './peers.ts';
import { ownBytes, readNow, type Borrowed } from './borrowed.ts';

/** Limits the decoder enforces before buffering a payload. */
export interface DecoderLimits {
  /** Largest DATA payload accepted, in bytes. */
  readonly maxFrameBytes: number;
  /** Largest OPEN/REPLY payload (an encoded head) accepted, in bytes. */
  readonly maxHeaderBytes: number;
}

const EMPTY = Buffer.alloc(0);

const FIXED_PAYLOAD: Partial<Record<number, number>> = {
  [FrameType.WINDOW]: U32_PAYLOAD_BYTES,
  [FrameType.RESET]: U32_PAYLOAD_BYTES,
  [FrameType.GOAWAY]: U32_PAYLOAD_BYTES,
  [FrameType.PING]: PING_PAYLOAD_BYTES,
};

/**
 * Checks a frame header; returns nothing. Pure: throws a typed error for a frame that no peer of
 * ours would send, before a single payload byte is buffered.
 */
export function checkHeader(type: number, streamId: number, length: number, limits: DecoderLimits): void {
  if (type > FrameType.PEERS) throw new ProtocolError('TUN_ERR_PROTOCOL', `unknown frame type ${type}`);
  const fixed = FIXED_PAYLOAD[type];
  if (fixed !== undefined && length !== fixed) {
    throw new ProtocolError('TUN_ERR_PROTOCOL', `frame type ${type} must carry ${fixed} bytes, got ${length}`);
  }
  const sessionLevel = type === FrameType.PING || type === FrameType.GOAWAY || type === FrameType.PEERS;
  if (sessionLevel !== (streamId === 0)) {
    throw new ProtocolError('TUN_ERR_PROTOCOL', `frame type ${type} on stream ${streamId}`);
  }
  if (type === FrameType.PEERS && length > PEERS_LIMITS.maxEncodedBytes) {
    throw new LimitError('TUN_ERR_FRAME_TOO_LARGE', `PEERS frame of ${length} bytes, limit ${PEERS_LIMITS.maxEncodedBytes}`);
  }
  if (type === FrameType.DATA && length > limits.maxFrameBytes) {
    throw new LimitError('TUN_ERR_FRAME_TOO_LARGE', `DATA frame of ${length} bytes, limit ${limits.maxFrameBytes}`);
  }
  if ((type === FrameType.OPEN || type === FrameType.REPLY) && length > limits.maxHeaderBytes) {
    throw new LimitError('TUN_ERR_HEADERS_TOO_LARGE', `head of ${length} bytes, limit ${limits.maxHeaderBytes}`);
  }
}

/**
 * Frame decoder: feed it chunks of any size. It calls `onFrame` once per whole frame, except that
 * a DATA payload straddling chunks is streamed as pieces (`more: true` on all but the last), so
 * payloads are always zero-copy views of the input; only the small frames (heads, control) and
 * headers split across chunks are ever copied together. Payloads handed on are only valid during
 * `onFrame` when the input was a borrowed read buffer; what waits for the rest of a frame is copied.
 * After it throws, the stream is unusable (the session closes).
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;
  /** Payload bytes still to come of the DATA frame being streamed. */
  private streaming = 0;
  private streamFlags = 0;
  private streamId = 0;

  constructor(
    private readonly limits: DecoderLimits,
    private readonly onFrame: (frame: Frame) => void,
  ) {}

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes (borrowed or not: what waits for the rest of a frame is owned, see accept); throws {@link ProtocolError} / {@link LimitError} on a bad frame. */
  write(chunk: Borrowed): void {
    if (this.failed) throw new ProtocolError('TUN_ERR_PROTOCOL', 'decoder used after an error');
    if (chunk.length === 0) return;
    try {
      this.accept(readNow(chunk));
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  private accept(chunk: Buffer): void {
    if (this.buffered === 0) {
      this.feed(chunk);
    } else {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.drainBuffered();
    }
    // What waits for the rest of a frame outlives this call: a borrowed read buffer is copied.
    for (let i = 0; i < this.chunks.length; i++) this.chunks[i] = ownBytes(this.chunks[i]);
  }

  /** Continues a streamed DATA payload, then parses what follows. */
  private feed(chunk: Buffer): void {
    let rest = chunk;
    if (this.streaming > 0) {
      const take = Math.min(this.streaming, rest.length);
      this.streaming -= take;
      const payload = take === rest.length ? rest : rest.subarray(0, take);
      this.onFrame({ type: FrameType.DATA, flags: this.streamFlags, streamId: this.streamId, payload, more: this.streaming > 0 });
      if (take === rest.length) return;
      rest = rest.subarray(take);
    }
    this.drainChunk(rest);
  }

  private startStreaming(flags: number, streamId: number, length: number): void {
    this.streaming = length;
    this.streamFlags = flags;
    this.streamId = streamId;
  }

  /** Fast path: parse frames straight out of one chunk, keep only a trailing partial frame. */
  private drainChunk(chunk: Buffer): void {
    let offset = 0;
    while (chunk.length - offset >= FRAME_HEADER_BYTES) {
      const type = chunk[offset + FrameHeaderOffset.TYPE];
      const streamId = chunk.readUInt32BE(offset + FrameHeaderOffset.STREAM_ID);
      const length = chunk.readUInt32BE(offset + FrameHeaderOffset.LENGTH);
      checkHeader(type, streamId, length, this.limits);
      const end = offset + FRAME_HEADER_BYTES + length;
      const flags = chunk[offset + FrameHeaderOffset.FLAGS];
      if (end > chunk.length) {
        if (type !== FrameType.DATA) break;
        // The payload goes on in the next chunks: hand on what is here, stream the rest.
        const here = chunk.subarray(offset + FRAME_HEADER_BYTES);
        this.startStreaming(flags, streamId, length - here.length);
        if (here.length > 0) this.onFrame({ type: FrameType.DATA, flags, streamId, payload: here, more: true });
        return;
      }
      const payload = chunk.subarray(offset + FRAME_HEADER_BYTES, end);
      offset = end;
      this.onFrame({ type: type as FrameTypeValue, flags, streamId, payload });
    }
    if (offset < chunk.length) {
      const rest = offset === 0 ? chunk : chunk.subarray(offset);
      this.chunks.push(rest);
      this.buffered = rest.length;
    }
  }

  private drainBuffered(): void {
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const head = this.peek(FRAME_HEADER_BYTES);
      const type = head[FrameHeaderOffset.TYPE];
      const streamId = head.readUInt32BE(FrameHeaderOffset.STREAM_ID);
      const length = head.readUInt32BE(FrameHeaderOffset.LENGTH);
      checkHeader(type, streamId, length, this.limits);
      if (this.buffered < FRAME_HEADER_BYTES + length) {
        if (type !== FrameType.DATA) return;
        this.consume(FRAME_HEADER_BYTES);
        this.startStreaming(head[FrameHeaderOffset.FLAGS], streamId, length);
        const rest = this.chunks.splice(0);
        this.buffered = 0;
        for (const c of rest) if (c.length > 0) this.accept(c);
        return;
      }
      this.consume(FRAME_HEADER_BYTES);
      const payload = this.consume(length);
      this.onFrame({ type: type as FrameTypeValue, flags: head[FrameHeaderOffset.FLAGS], streamId, payload });
      // Once the partial frame is whole, continue on the zero-copy path.
      if (this.chunks.length === 1) {
        const only = this.chunks.pop() as Buffer;
        this.buffered = 0;
        this.drainChunk(only);
        return;
      }
    }
  }

  /** First `n` buffered bytes without consuming them (copies only if they straddle chunks). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length >= n) return first;
    return Buffer.concat(this.chunks, n);
  }

  /** Removes and returns the first `n` buffered bytes. */
  private consume(n: number): Buffer {
    // A zero-length payload may follow a header that used up every buffered chunk.
    if (n === 0) return EMPTY;
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length === n) return this.chunks.shift() as Buffer;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}
