import { describe, expect, it } from 'vitest';
import {
  isGoingAway,
  nextSessionState,
  refusesNewStreams,
  SESSION_TRANSITIONS,
  SessionEvent,
  SessionState,
  type SessionEventValue,
  type SessionStateValue,
} from './session-state.ts';

const S = SessionState;
const E = SessionEvent;

// The drain rules written out pair by pair, independently of the table they check.
const EXPECTED: ReadonlyArray<readonly [SessionStateValue, SessionEventValue, SessionStateValue]> = [
  [S.ACTIVE, E.SEND_GOAWAY, S.GOAWAY_SENT],
  [S.ACTIVE, E.RECV_GOAWAY, S.GOAWAY_RECEIVED],
  [S.ACTIVE, E.CLOSE, S.CLOSED],
  [S.GOAWAY_SENT, E.SEND_GOAWAY, S.GOAWAY_SENT],
  [S.GOAWAY_SENT, E.RECV_GOAWAY, S.GOAWAY_BOTH],
  [S.GOAWAY_SENT, E.CLOSE, S.CLOSED],
  [S.GOAWAY_RECEIVED, E.SEND_GOAWAY, S.GOAWAY_BOTH],
  [S.GOAWAY_RECEIVED, E.RECV_GOAWAY, S.GOAWAY_RECEIVED],
  [S.GOAWAY_RECEIVED, E.CLOSE, S.CLOSED],
  [S.GOAWAY_BOTH, E.SEND_GOAWAY, S.GOAWAY_BOTH],
  [S.GOAWAY_BOTH, E.RECV_GOAWAY, S.GOAWAY_BOTH],
  [S.GOAWAY_BOTH, E.CLOSE, S.CLOSED],
  [S.CLOSED, E.SEND_GOAWAY, S.CLOSED],
  [S.CLOSED, E.RECV_GOAWAY, S.CLOSED],
  [S.CLOSED, E.CLOSE, S.CLOSED],
];

describe('session state table', () => {
  it('lists every (state, event) pair exactly once', () => {
    const pairs = EXPECTED.map(([s, e]) => `${s}/${e}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs.length).toBe(Object.keys(SessionState).length * Object.keys(SessionEvent).length);
    expect(Object.keys(SESSION_TRANSITIONS).sort()).toEqual(Object.values(SessionState).sort());
  });

  it.each(EXPECTED)('%s + %s -> %s', (state, event, expected) => {
    expect(nextSessionState(state, event)).toBe(expected);
  });

  it('only ACTIVE opens new streams; only a side that sent GOAWAY refuses the peer’s', () => {
    expect(Object.values(SessionState).filter((s) => !isGoingAway(s))).toEqual([S.ACTIVE]);
    expect(Object.values(SessionState).filter(refusesNewStreams)).toEqual([S.GOAWAY_SENT, S.GOAWAY_BOTH]);
  });

  it('CLOSED is final and every state reaches it on CLOSE', () => {
    for (const state of Object.values(SessionState)) expect(nextSessionState(state, E.CLOSE)).toBe(S.CLOSED);
    for (const event of Object.values(SessionEvent)) expect(nextSessionState(S.CLOSED, event)).toBe(S.CLOSED);
  });
});
