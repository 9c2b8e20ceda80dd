/**
 * Lifecycle of a session: serving, draining (GOAWAY sent, received or both: no new streams on
 * the side that sent it) and closed. docs/PROTOCOL.md ("Session states") shows this table; a test
 * keeps the two equal.
 */
export const SessionState = {
  /** Both sides accept new streams. */
  ACTIVE: 'ACTIVE',
  /** We sent GOAWAY: the peer's new streams are refused; we open none either. */
  GOAWAY_SENT: 'GOAWAY_SENT',
  /** The peer sent GOAWAY: we open no new streams on it. */
  GOAWAY_RECEIVED: 'GOAWAY_RECEIVED',
  /** Both sent GOAWAY. */
  GOAWAY_BOTH: 'GOAWAY_BOTH',
  /** Closed: nothing is sent or read any more. */
  CLOSED: 'CLOSED',
} as const;

/** A {@link SessionState} value. */
export type SessionStateValue = (typeof SessionState)[keyof typeof SessionState];

/** What happens to a session. */
export const SessionEvent = {
  /** We send GOAWAY (`goAway()`). */
  SEND_GOAWAY: 'SEND_GOAWAY',
  /** GOAWAY arrives from the peer. */
  RECV_GOAWAY: 'RECV_GOAWAY',
  /** The session closes: `close()`, `destroy()`, a transport close, a protocol error or the idle timeout. */
  CLOSE: 'CLOSE',
} as const;

/** A {@link SessionEvent} value. */
export type SessionEventValue = (typeof SessionEvent)[keyof typeof SessionEvent];

const { ACTIVE, GOAWAY_SENT, GOAWAY_RECEIVED, GOAWAY_BOTH, CLOSED } = SessionState;

/**
 * Every (state, event) pair and the next state. An event that leaves the state as it is changes
 * nothing: a second GOAWAY is neither sent nor reported, nothing happens once closed.
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStateValue, Readonly<Record<SessionEventValue, SessionStateValue>>>> =
  Object.freeze({
    ACTIVE: Object.freeze({ SEND_GOAWAY: GOAWAY_SENT, RECV_GOAWAY: GOAWAY_RECEIVED, CLOSE: CLOSED }),
    GOAWAY_SENT: Object.freeze({ SEND_GOAWAY: GOAWAY_SENT, RECV_GOAWAY: GOAWAY_BOTH, CLOSE: CLOSED }),
    GOAWAY_RECEIVED: Object.freeze({ SEND_GOAWAY: GOAWAY_BOTH, RECV_GOAWAY: GOAWAY_RECEIVED, CLOSE: CLOSED }),
    GOAWAY_BOTH: Object.freeze({ SEND_GOAWAY: GOAWAY_BOTH, RECV_GOAWAY: GOAWAY_BOTH, CLOSE: CLOSED }),
    CLOSED: Object.freeze({ SEND_GOAWAY: CLOSED, RECV_GOAWAY: CLOSED, CLOSE: CLOSED }),
  });

/** The state after `event` in `state` (see {@link SESSION_TRANSITIONS}). */
export function nextSessionState(state: SessionStateValue, event: SessionEventValue): SessionStateValue {
  return SESSION_TRANSITIONS[state][event];
}

/** True once either side sent GOAWAY or the session closed: open no new streams. */
export function isGoingAway(state: SessionStateValue): boolean {
  return state !== ACTIVE;
}

/** True once we sent GOAWAY (and until close): streams the peer opens are refused. */
export function refusesNewStreams(state: SessionStateValue): boolean {
  return state === GOAWAY_SENT || state === GOAWAY_BOTH;
}
