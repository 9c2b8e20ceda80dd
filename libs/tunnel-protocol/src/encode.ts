import { FRAME_HEADER_BYTES, FrameFlag, FrameHeaderOffset, FrameType, U32_PAYLOAD_BYTES, type FrameTypeValue } from './frame.ts';

const { TYPE, FLAGS, STREAM_ID, LENGTH } = FrameHeaderOffset;

/** Encodes a frame header for a payload of `length` bytes (sent separately, so big payloads are never copied). */
export function encodeHeader(type: FrameTypeValue, flags: number, streamId: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header[TYPE] = type;
  header[FLAGS] = flags;
  header.writeUInt32BE(streamId, STREAM_ID);
  header.writeUInt32BE(length, LENGTH);
  return header;
}

/** Encodes a whole frame into one buffer (header + copy of payload); for small frames. */
export function encodeFrame(type: FrameTypeValue, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload ? payload.length : 0;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  out[TYPE] = type;
  out[FLAGS] = flags;
  out.writeUInt32BE(streamId, STREAM_ID);
  out.writeUInt32BE(length, LENGTH);
  if (payload) out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** A frame whose payload is one big-endian u32 (WINDOW increments, RESET and GOAWAY reasons). */
export function encodeU32Frame(type: FrameTypeValue, flags: number, streamId: number, value: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + U32_PAYLOAD_BYTES);
  out[TYPE] = type;
  out[FLAGS] = flags;
  out.writeUInt32BE(streamId, STREAM_ID);
  out.writeUInt32BE(U32_PAYLOAD_BYTES, LENGTH);
  out.writeUInt32BE(value, FRAME_HEADER_BYTES);
  return out;
}

/** WINDOW frame granting `increment` bytes of credit on `streamId`. */
export function encodeWindow(streamId: number, increment: number): Buffer {
  return encodeU32Frame(FrameType.WINDOW, 0, streamId, increment);
}

/** RESET frame for `streamId` with a {@link ResetCode} reason. */
export function encodeReset(streamId: number, reason: number): Buffer {
  return encodeU32Frame(FrameType.RESET, 0, streamId, reason);
}

/** GOAWAY frame with a reason. */
export function encodeGoAway(reason: number): Buffer {
  return encodeU32Frame(FrameType.GOAWAY, 0, 0, reason);
}

/** PING (or its ACK) carrying 8 opaque bytes. */
export function encodePing(opaque: Uint8Array, ack: boolean): Buffer {
  return encodeFrame(FrameType.PING, ack ? FrameFlag.ACK : 0, 0, opaque);
}
