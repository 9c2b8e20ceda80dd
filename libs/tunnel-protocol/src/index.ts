// The protocol core's public API: frames, codec, session, streams, handshake, errors; no sockets and no Node I/O imports (lint keeps it so). Node I/O is in @tunnel/tunnel-io.
export {
  ERROR_CODES,
  HandshakeError,
  HttpError,
  LimitError,
  ProtocolError,
  ResetCode,
  resetCodeName,
  resetCodeToError,
  SessionClosedError,
  StreamResetError,
  TransportClosedError,
  TunnelError,
  type ErrorCode,
} from './errors.ts';
export { FRAME_HEADER_BYTES, FrameFlag, FrameType, PROTOCOL_VERSION, type Frame, type FrameTypeValue } from './frame.ts';
export { encodeFrame, encodeGoAway, encodeHeader, encodePing, encodeReset, encodeU32Frame, encodeWindow } from './encode.ts';
export { checkHeader, FrameDecoder, type DecoderLimits } from './decode.ts';
export {
  CONNECTED_REPLY,
  decodeOpenHead,
  decodeResponseHead,
  encodeOpenHead,
  encodeResponseHead,
  type HttpRequestHead,
  type OpenHead,
  type ResponseHead,
  type TcpOpenHead,
} from './head.ts';
export { hostOf, stripV4Mapped, withForwarded, type ForwardedFacts } from './headers.ts';
export { HTTP_TOKEN, TCHAR_PUNCTUATION } from './http-token.ts';
export { findByParentDomain, wildcardCovers, wildcardDomain } from './wildcard-host.ts';
export {
  decodeHello,
  decodeWelcome,
  encodeHello,
  encodeWelcome,
  ERROR_HEADER,
  HELLO_HEADER,
  HELLO_LIMITS,
  WELCOME_LIMIT_BOUNDS,
  isValidHostname,
  TUNNEL_PATH,
  WELCOME_HEADER,
  clientLimits,
  type ClientOwnLimits,
  type Hello,
  type Welcome,
} from './handshake.ts';
export { checkInstanceIds, decodePeers, encodePeers, isInstanceId, PEERS_CAPABILITY, PEERS_LIMITS } from './peers.ts';
export { bearer, checkBearer } from './auth.ts';
export { checkUpgradeRequest, type BearerCheck, type UpgradeCheck, type UpgradeRequestLike } from './upgrade.ts';
export { DEFAULT_LIMITS, type SessionLimits } from './limits.ts';
export { silentLogger, type LogFn, type Logger } from './logger.ts';
export {
  isBorrowed,
  leaseBytes,
  leaseReadBuffer,
  lend,
  lendMemory,
  ownBytes,
  readNow,
  unlendMemory,
  type Borrowed,
  type LeasedBytes,
  type Lender,
} from './borrowed.ts';
export { TunnelStream, type StreamHost, type StreamSink, type StreamWindows } from './stream.ts';
export { Session, type SessionOptions } from './session.ts';
export {
  ReplyState,
  StreamEvent,
  StreamFault,
  StreamState,
  type ReplyStateValue,
  type StreamEventValue,
  type StreamFaultValue,
  type StreamStateValue,
} from './stream-state.ts';
export { SessionEvent, SessionState, type SessionEventValue, type SessionStateValue } from './session-state.ts';
export type { Clock } from './clock.ts';
export { type Transport, type TransportHandlers } from './transport.ts';
export { Backoff } from './backoff.ts';
