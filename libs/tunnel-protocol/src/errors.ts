import { CodedError } from '@tunnel/errors';

/**
 * The registry of every error the tunnel raises at run time (the options loader's are in
 * libs/config). Codes are stable: logs, metrics and users' scripts key on them. Each message says
 * what to do about it.
 */
export const ERROR_CODES = {
  TUN_ERR_AUTH: 'The token was missing or wrong: give both ends the same token (--token-env / --token-file).',
  TUN_ERR_ADMIN_AUTH:
    'An admin endpoint was called without the admin token: send the admin token as a bearer token; client tokens never open admin endpoints.',
  TUN_ERR_ADMIN_DISABLED:
    'An admin endpoint was called but the exit server has no admin token: set TUNNEL_ADMIN_TOKEN (or --admin-token-env / --admin-token-file) on the exit server.',
  TUN_ERR_UI_CROSS_SITE:
    'A login or logout was posted to the status page from another site, or without an Origin or Sec-Fetch-Site header: refused as cross-site request forgery; use the form at /ui itself.',
  TUN_ERR_GRANT_DENIED:
    "The client claimed a hostname, TCP port or id outside its tokens-file grant: the handshake is refused (403); fix the client's --upstream/--tcp/--id or the grant.",
  TUN_ERR_DUPLICATE_SESSION:
    'This client process already has a live session to this exit server: the second one is refused (409); nothing to do, the first keeps serving.',
  TUN_ERR_SESSION_REPLACED:
    'A new process with the same client id connected: this older session was drained; two devices must not share an id.',
  TUN_ERR_TOKEN_REVOKED:
    "The client's token was removed from the exit server's token files: the session was drained and closed; give the client a valid token.",
  TUN_ERR_RATE_LIMITED:
    'Too many failed authentication attempts from this address: answered 429 with Retry-After; wait, and fix the token.',
  TUN_ERR_SESSION_CAP:
    'The exit server holds its maximum of tunnel sessions (--max-control-connections): the handshake is answered 503 with Retry-After and the client retries after it; raise the cap or add exit servers.',
  TUN_ERR_VERSION_MISMATCH: 'The two ends speak different protocol versions: upgrade the older one.',
  TUN_ERR_BAD_HELLO: 'The client hello was malformed or broke a limit: check the client version and its hostnames/ports.',
  TUN_ERR_BAD_UPGRADE: 'The control request was not a WebSocket upgrade to the tunnel path: point the client at the control port.',
  TUN_ERR_BAD_WELCOME: 'The server welcome was malformed: check that the URL points at an exit server.',
  TUN_ERR_PROTOCOL: 'The peer sent a frame that breaks the protocol: the connection is closed; upgrade both ends to the same release.',
  TUN_ERR_FRAME_TOO_LARGE: 'A frame exceeded the negotiated maximum size (maxFrameBytes): the connection is closed.',
  TUN_ERR_HEADERS_TOO_LARGE:
    'A request or response head exceeded maxHeaderBytes (a public request is answered 431, or 414 when its request line alone is over it): send smaller headers or a shorter URL, or raise the limit.',
  TUN_ERR_TOO_MANY_STREAMS: 'The client has reached its maximum of concurrent streams (maxStreamsPerClient): raise it or add clients.',
  TUN_ERR_FLOW_CONTROL:
    'The peer sent more data than its flow-control window allowed: that stream is reset; upgrade both ends to the same release.',
  TUN_ERR_STREAM_RESET: 'The peer reset the stream: see the reset reason; other streams are unaffected.',
  TUN_ERR_STREAM_CLOSED: 'Data arrived for a stream that is already closed.',
  TUN_ERR_SESSION_CLOSED: 'The tunnel connection closed: in-flight streams fail; the client reconnects by itself.',
  TUN_ERR_CONNECTION_LOST:
    'The tunnel connection dropped without a WebSocket close (network failure, killed peer, proxy timeout): the client reconnects by itself.',
  TUN_ERR_PEER_CLOSED:
    'The peer closed the tunnel connection with an error close code: see the code and reason; the client reconnects by itself.',
  TUN_ERR_GOING_AWAY: 'The peer is draining and accepts no new streams: retry on another client.',
  TUN_ERR_IDLE_TIMEOUT: 'Nothing was heard from the peer within idleTimeout: the link is considered dead and is closed.',
  TUN_ERR_PEER_NOT_READING:
    'The peer kept talking but read nothing of what was sent to it for idleTimeout (bytes waited to be sent and none left; seen within two idleTimeouts): the session is closed as dead; the client reconnects.',
  TUN_ERR_HANDSHAKE_TIMEOUT: 'The tunnel handshake did not finish within handshakeTimeout.',
  TUN_ERR_UPSTREAM_UNREACHABLE: 'The edge client could not connect to its upstream: check that the local app is running.',
  TUN_ERR_UPSTREAM_TIMEOUT: 'The upstream did not answer in time: raise --request-timeout or fix the slow app.',
  TUN_ERR_TCP_PORT_REFUSED:
    'The exit server will not open a TCP port the client declared: list it in --tcp-port or --tcp-port-range on the server, or free it.',
  TUN_ERR_NO_ROUTE: 'No connected edge client serves this host or port: start a client that declares it.',
  TUN_ERR_BAD_REQUEST:
    'A public request was not valid HTTP/1.1 (answered 400, 501 or 505 and the connection closed): fix the client; nothing reached the upstream.',
  TUN_ERR_BAD_RESPONSE: 'The upstream answered with invalid HTTP/1.1: the public connection is cut; fix the upstream app.',
  TUN_ERR_PUBLIC_TIMEOUT:
    'A public connection passed a time limit (--headers-timeout, --body-timeout, --send-timeout, --upstream-read-timeout, --tcp-idle-timeout): it is cut, or answered 408 when a slow request head or body can still be answered, and its tunnel stream reset; raise the limit if the client or upstream is legitimately that slow.',
  TUN_ERR_TOO_MANY_CONNECTIONS:
    'A public connection was refused because --max-connections or --max-connections-per-address was reached (HTTP gets 503 with Retry-After): raise the cap, or find who holds the connections.',
  TUN_ERR_HELD_BYTES:
    'A public connection sent more than --max-held-bytes while nothing could be forwarded (after an upgrade request, before its answer; or behind a request still being answered): the connection is cut; wait for the answer before sending more.',
} as const;

/** A stable error code, see {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Base class of every run-time tunnel error (a {@link CodedError}): `code` is one of
 * {@link ERROR_CODES}, `message` is the detail followed by the registry's text, which says what to do.
 */
export class TunnelError extends CodedError<ErrorCode> {
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(code, detail ? `${detail}. ${ERROR_CODES[code]}` : ERROR_CODES[code], options);
  }
}

/** The peer broke the wire protocol; the session closes. */
export class ProtocolError extends TunnelError {}

/** A configured limit (frame size, header bytes, streams, window) was broken. */
export class LimitError extends TunnelError {}

/** The upgrade request, hello or welcome was refused or malformed. */
export class HandshakeError extends TunnelError {
  /** HTTP status the server answers the upgrade with (401, 400, 426...). */
  readonly status: number;

  constructor(code: ErrorCode, status: number, detail?: string) {
    super(code, detail);
    this.status = status;
  }
}

/** A public request or an upstream response broke HTTP/1.1 framing rules. */
export class HttpError extends TunnelError {
  /** HTTP status to answer the public client with (400, 405, 408, 413, 414, 431, 501, 505), or 502 for a bad response. */
  readonly status: number;

  constructor(
    code: 'TUN_ERR_BAD_REQUEST' | 'TUN_ERR_BAD_RESPONSE' | 'TUN_ERR_HEADERS_TOO_LARGE' | 'TUN_ERR_HELD_BYTES' | 'TUN_ERR_PUBLIC_TIMEOUT',
    status: number,
    detail?: string,
  ) {
    super(code, detail);
    this.status = status;
  }
}

/** A stream was reset by the peer or locally; carries the wire reason. */
export class StreamResetError extends TunnelError {
  /** Wire reset reason (see {@link ResetCode}). */
  readonly reason: number;

  constructor(reason: number, detail?: string) {
    super(resetCodeToError(reason), detail ?? `stream reset: ${resetCodeName(reason)}`);
    this.reason = reason;
  }
}

/** The session ended (closed, timed out or torn down); in-flight streams fail with it. */
export class SessionClosedError extends TunnelError {}

/**
 * The transport under a session closed abnormally: the peer sent a WebSocket close with an error
 * code (`TUN_ERR_PEER_CLOSED`), or the connection dropped without one (`TUN_ERR_CONNECTION_LOST`,
 * close code 1006). A session reports it as the `cause` of its SessionClosedError.
 */
export class TransportClosedError extends TunnelError {
  /** The WebSocket close code (RFC 6455 §7.4): the peer's, or 1006 when no close frame came. */
  readonly closeCode: number;

  constructor(code: 'TUN_ERR_PEER_CLOSED' | 'TUN_ERR_CONNECTION_LOST', closeCode: number, reason = '') {
    super(code, `websocket closed: ${closeCode} ${reason}`.trim());
    this.closeCode = closeCode;
  }
}

/** Reasons carried by RESET and GOAWAY frames (u32 on the wire). */
export const ResetCode = {
  /** Orderly cancel: the other side no longer wants the stream. */
  CANCEL: 0,
  /** The peer broke the protocol on this stream. */
  PROTOCOL: 1,
  /** Refused: too many streams, or the peer is going away; safe to retry elsewhere. */
  REFUSED: 2,
  /** The edge client could not reach its upstream. */
  UPSTREAM_UNREACHABLE: 3,
  /** The upstream did not answer in time. */
  UPSTREAM_TIMEOUT: 4,
  /** Internal error in the peer. */
  INTERNAL: 5,
  /** The peer exceeded the stream's flow-control window. */
  FLOW_CONTROL: 6,
  // 7 was HEADERS_TOO_LARGE, sent by version 1 for an oversized structured head; not reused.
  /** Nothing serves this host or port on the edge client. */
  NO_ROUTE: 8,
  /** GOAWAY: a newer process with the same client id replaced this session. */
  SESSION_REPLACED: 9,
  /** GOAWAY: the client's token is no longer valid (removed in a rotation). */
  TOKEN_REVOKED: 10,
} as const;

const RESET_NAMES = Object.fromEntries(Object.entries(ResetCode).map(([k, v]) => [v, k])) as Record<number, string>;

/** Human-readable name of a reset reason, `UNKNOWN(n)` for codes from newer peers. */
export function resetCodeName(reason: number): string {
  return RESET_NAMES[reason] ?? `UNKNOWN(${reason})`;
}

/** The error code a RESET or GOAWAY reason stands for. */
export function resetCodeToError(reason: number): ErrorCode {
  switch (reason) {
    case ResetCode.UPSTREAM_UNREACHABLE:
      return 'TUN_ERR_UPSTREAM_UNREACHABLE';
    case ResetCode.UPSTREAM_TIMEOUT:
      return 'TUN_ERR_UPSTREAM_TIMEOUT';
    case ResetCode.REFUSED:
      return 'TUN_ERR_GOING_AWAY';
    case ResetCode.FLOW_CONTROL:
      return 'TUN_ERR_FLOW_CONTROL';
    case ResetCode.NO_ROUTE:
      return 'TUN_ERR_NO_ROUTE';
    case ResetCode.PROTOCOL:
      return 'TUN_ERR_PROTOCOL';
    case ResetCode.SESSION_REPLACED:
      return 'TUN_ERR_SESSION_REPLACED';
    case ResetCode.TOKEN_REVOKED:
      return 'TUN_ERR_TOKEN_REVOKED';
    default:
      return 'TUN_ERR_STREAM_RESET';
  }
}
