import { ProtocolError, ResetCode, StreamResetError, type TunnelError } from './errors.ts';

/**
 * Lifecycle of one stream as one end sees it: its own half and the peer's half. A stream starts
 * OPEN on both ends (the OPEN frame creates it); the session forgets it on entering a finished
 * state ({@link isStreamFinished}). docs/PROTOCOL.md ("Stream states") shows this table; a test
 * keeps the two equal.
 */
export const StreamState = {
  /** Both halves open: either side may still send DATA. */
  OPEN: 'OPEN',
  /** We sent FIN: only the peer still sends. */
  LOCAL_CLOSED: 'LOCAL_CLOSED',
  /** The peer sent FIN: only we still send. */
  REMOTE_CLOSED: 'REMOTE_CLOSED',
  /** Both halves finished with FIN. Finished. */
  CLOSED: 'CLOSED',
  /** Aborted before both halves finished: RESET sent or received, or the session closed. Finished. */
  RESET: 'RESET',
} as const;

/** A {@link StreamState} value. */
export type StreamStateValue = (typeof StreamState)[keyof typeof StreamState];

/** What happens to a stream, on the wire or through its API. */
export const StreamEvent = {
  /** We end our half: DATA, REPLY or OPEN with FIN. */
  SEND_FIN: 'SEND_FIN',
  /** Our consumer writes body bytes (they go out as DATA as credit allows). */
  WRITE: 'WRITE',
  /** DATA (or a REPLY, which may carry FIN) arrives from the peer. */
  RECV_DATA: 'RECV_DATA',
  /** The peer ends its half: FIN on DATA or REPLY. */
  RECV_FIN: 'RECV_FIN',
  /** We abort the stream: `reset()`, or the stream destroyed before both halves finished. */
  SEND_RESET: 'SEND_RESET',
  /** RESET arrives from the peer. */
  RECV_RESET: 'RECV_RESET',
  /** The session under the stream closed. */
  SESSION_CLOSED: 'SESSION_CLOSED',
} as const;

/** A {@link StreamEvent} value. */
export type StreamEventValue = (typeof StreamEvent)[keyof typeof StreamEvent];

/** Whether a REPLY went out or came in on a stream (one per stream: the responder answers the opener). */
export const ReplyState = {
  /** No REPLY yet. */
  AWAITING: 'AWAITING',
  /** We sent our REPLY (responder side). */
  SENT: 'SENT',
  /** The peer's REPLY arrived (opener side). */
  RECEIVED: 'RECEIVED',
} as const;

/** A {@link ReplyState} value. */
export type ReplyStateValue = (typeof ReplyState)[keyof typeof ReplyState];

/** REPLY events of a stream. */
export const ReplyEvent = {
  /** We send a REPLY (`reply()`). */
  SEND_REPLY: 'SEND_REPLY',
  /** A REPLY arrives from the peer. */
  RECV_REPLY: 'RECV_REPLY',
} as const;

/** A {@link ReplyEvent} value. */
export type ReplyEventValue = (typeof ReplyEvent)[keyof typeof ReplyEvent];

/**
 * A (state, event) pair the protocol or the stream API forbids. Each names the error it raises
 * ({@link streamFaultError}); a fault caused by the peer also resets the stream with PROTOCOL.
 */
export const StreamFault = {
  /** The peer sent DATA or FIN after its FIN: the stream is reset with PROTOCOL. */
  DATA_AFTER_FIN: 'DATA_AFTER_FIN',
  /** The peer sent a second REPLY, or a REPLY to the side that answers: reset with PROTOCOL. */
  SECOND_REPLY: 'SECOND_REPLY',
  /** A write reached a finished stream: the write fails, nothing is sent. */
  WRITE_AFTER_CLOSE: 'WRITE_AFTER_CLOSE',
} as const;

/** A {@link StreamFault} value. */
export type StreamFaultValue = (typeof StreamFault)[keyof typeof StreamFault];

const { OPEN, LOCAL_CLOSED, REMOTE_CLOSED, CLOSED, RESET } = StreamState;
const { DATA_AFTER_FIN, SECOND_REPLY, WRITE_AFTER_CLOSE } = StreamFault;

/**
 * Every (state, event) pair: the next state, or the fault it is. An event that changes nothing
 * (a second FIN from us, anything once finished) leaves the state as it is.
 */
export const STREAM_TRANSITIONS: Readonly<
  Record<StreamStateValue, Readonly<Record<StreamEventValue, StreamStateValue | StreamFaultValue>>>
> = Object.freeze({
  OPEN: row(LOCAL_CLOSED, OPEN, OPEN, REMOTE_CLOSED, RESET),
  // A write queued before reply(head, true) still goes out after the FIN (the caller's misuse;
  // the peer resets the stream): kept as it always was.
  LOCAL_CLOSED: row(LOCAL_CLOSED, LOCAL_CLOSED, LOCAL_CLOSED, CLOSED, RESET),
  REMOTE_CLOSED: row(CLOSED, REMOTE_CLOSED, DATA_AFTER_FIN, DATA_AFTER_FIN, RESET),
  CLOSED: row(CLOSED, WRITE_AFTER_CLOSE, DATA_AFTER_FIN, DATA_AFTER_FIN, CLOSED),
  RESET: row(RESET, WRITE_AFTER_CLOSE, RESET, RESET, RESET),
});

/** One table row; the three reset-like events always lead to the same place. */
function row(
  sendFin: StreamStateValue,
  write: StreamStateValue | StreamFaultValue,
  recvData: StreamStateValue | StreamFaultValue,
  recvFin: StreamStateValue | StreamFaultValue,
  reset: StreamStateValue,
): Readonly<Record<StreamEventValue, StreamStateValue | StreamFaultValue>> {
  return Object.freeze({
    SEND_FIN: sendFin,
    WRITE: write,
    RECV_DATA: recvData,
    RECV_FIN: recvFin,
    SEND_RESET: reset,
    RECV_RESET: reset,
    SESSION_CLOSED: reset,
  });
}

/** Every (reply state, reply event) pair: the next reply state, or the fault it is. A second reply() is ignored. */
export const REPLY_TRANSITIONS: Readonly<Record<ReplyStateValue, Readonly<Record<ReplyEventValue, ReplyStateValue | StreamFaultValue>>>> =
  Object.freeze({
    AWAITING: Object.freeze({ SEND_REPLY: ReplyState.SENT, RECV_REPLY: ReplyState.RECEIVED }),
    SENT: Object.freeze({ SEND_REPLY: ReplyState.SENT, RECV_REPLY: SECOND_REPLY }),
    RECEIVED: Object.freeze({ SEND_REPLY: ReplyState.RECEIVED, RECV_REPLY: SECOND_REPLY }),
  });

const FAULTS = new Set<string>(Object.values(StreamFault));

/** True when a transition's result is a fault rather than a state. */
export function isStreamFault(next: string): next is StreamFaultValue {
  return FAULTS.has(next);
}

/** The state after `event` in `state`, or the fault it is (see {@link STREAM_TRANSITIONS}). */
export function nextStreamState(state: StreamStateValue, event: StreamEventValue): StreamStateValue | StreamFaultValue {
  return STREAM_TRANSITIONS[state][event];
}

/** The reply state after `event` in `state`, or the fault it is (see {@link REPLY_TRANSITIONS}). */
export function nextReplyState(state: ReplyStateValue, event: ReplyEventValue): ReplyStateValue | StreamFaultValue {
  return REPLY_TRANSITIONS[state][event];
}

/** True in the states the session forgets the stream in: no frame for it is sent any more. */
export function isStreamFinished(state: StreamStateValue): boolean {
  return state === CLOSED || state === RESET;
}

/** True while the peer may still send DATA, so returning credit with WINDOW is worth it. */
export function peerMaySend(state: StreamStateValue): boolean {
  return state === OPEN || state === LOCAL_CLOSED;
}

/** True while our half is open: ending it sends a FIN. */
export function weMaySend(state: StreamStateValue): boolean {
  return state === OPEN || state === REMOTE_CLOSED;
}

/** The typed error a fault on stream `id` raises. */
export function streamFaultError(fault: StreamFaultValue, id: number): TunnelError {
  switch (fault) {
    case DATA_AFTER_FIN:
      return new ProtocolError('TUN_ERR_STREAM_CLOSED', `DATA after FIN on stream ${id}`);
    case SECOND_REPLY:
      return new ProtocolError('TUN_ERR_PROTOCOL', `second REPLY on stream ${id}`);
    case WRITE_AFTER_CLOSE:
      return new StreamResetError(ResetCode.CANCEL, `stream ${id} is closed`);
  }
}
