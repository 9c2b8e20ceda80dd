import type { Borrowed } from './borrowed.ts';

/**
 * Wire format of one frame: a fixed 10-byte header then `length` payload bytes.
 *
 *   0      1      2          6          10
 *   | type | flags| streamId | length   | payload...
 *            u8     u32 BE     u32 BE
 *
 * Frames travel over any ordered byte stream (WebSocket binary messages by default); message
 * boundaries carry no meaning, so several frames may share one message and the decoder
 * reassembles frames split across messages.
 */
export const FRAME_HEADER_BYTES = 10;

/** Byte offsets of the header fields in a frame (see the layout above). */
export const FrameHeaderOffset = {
  /** u8 frame type. */
  TYPE: 0,
  /** u8 flag bits. */
  FLAGS: 1,
  /** u32 BE stream id. */
  STREAM_ID: 2,
  /** u32 BE payload length, bytes. */
  LENGTH: 6,
} as const;

/** Payload bytes of WINDOW, RESET and GOAWAY: one big-endian u32. */
export const U32_PAYLOAD_BYTES = 4;

/** Payload bytes of a PING: 8 opaque bytes the answer echoes. */
export const PING_PAYLOAD_BYTES = 8;

/**
 * Protocol version spoken by this build; both ends must match. 2: an HTTP stream carries a
 * whole public connection as raw HTTP/1.1 bytes (1 carried one request with a structured head).
 */
export const PROTOCOL_VERSION = 2;

/** Frame types. */
export const FrameType = {
  /** Stream payload bytes; FIN ends the sender's half. */
  DATA: 0,
  /** Opens a stream; payload is an encoded request head ({@link OpenHead}); FIN: no body follows. */
  OPEN: 1,
  /** Answers an OPEN; payload is an encoded response head; FIN: no body follows. */
  REPLY: 2,
  /** Grants the peer `u32` more bytes of send credit on a stream. */
  WINDOW: 3,
  /** Aborts a stream; payload is a `u32` reason ({@link ResetCode}). */
  RESET: 4,
  /** Keep-alive with an 8-byte opaque payload; ACK flag marks the answer. */
  PING: 5,
  /** The sender accepts no new streams; payload is a `u32` reason. Stream id 0. */
  GOAWAY: 6,
  /**
   * A set of exit-server instance ids (see `peers.ts`), stream id 0. Server to client: every live
   * exit server the client should hold a session to. Client to server: the instances this client
   * is attached to. Sent only to a peer that declared the `peers` capability in its hello.
   */
  PEERS: 7,
} as const;

/** A frame type value. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** Frame flag bits. */
export const FrameFlag = {
  /** Last frame from this sender on the stream (half-close). */
  FIN: 0x1,
  /** The frame answers a PING. */
  ACK: 0x2,
} as const;

/** One decoded frame. `payload` may be a view into the decoder's input: copy it to keep it. */
export interface Frame {
  /** Frame type. */
  readonly type: FrameTypeValue;
  /** Flag bits ({@link FrameFlag}). */
  readonly flags: number;
  /** Stream id; 0 for session-level frames (PING, GOAWAY, PEERS). */
  readonly streamId: number;
  /** Payload bytes: a view of the decoder's input, borrowed when the input was. */
  readonly payload: Borrowed;
  /**
   * Decoded DATA only: true when more pieces of this same frame follow. A DATA payload that
   * straddles input chunks is handed on piece by piece instead of being copied together; its
   * FIN counts only on the last piece.
   */
  readonly more?: boolean;
}
