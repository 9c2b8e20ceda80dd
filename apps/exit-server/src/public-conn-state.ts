import assert from 'node:assert/strict';

/**
 * Where a public connection is in its life. One value at a time; what may follow what is
 * {@link NEXT_STATES}, checked by {@link moveTo}.
 *
 * ```
 *   Reading ──pipelined head that may not ride──▶ HeadHeld ──responses done──▶ Reading
 *   Reading ──upgrade request sent──▶ UpgradeAsked ──101──▶ Piping
 *                                      UpgradeAsked ──declined──▶ Reading
 *   any ──error answered, ended, cut, closed──▶ Closing (final)
 * ```
 */
export enum ConnState {
  /** Reading requests: each head is routed and forwarded as it comes. */
  Reading = 'reading',
  /** A pipelined head that may not ride with the requests before it waits (socket paused) until they are answered. */
  HeadHeld = 'head-held',
  /** An upgrade request is out: later bytes are held until its answer says 101 or not. */
  UpgradeAsked = 'upgrade-asked',
  /** Upgraded (101): a byte pipe both ways until either side ends. */
  Piping = 'piping',
  /** An error was answered, or the connection ended or was cut: whatever else arrives is ignored. Final. */
  Closing = 'closing',
}

/** The states each state may move to. Closing may "move" to itself: every way out of a connection ends there, some twice. */
export const NEXT_STATES: Readonly<Record<ConnState, readonly ConnState[]>> = {
  [ConnState.Reading]: [ConnState.HeadHeld, ConnState.UpgradeAsked, ConnState.Closing],
  [ConnState.HeadHeld]: [ConnState.Reading, ConnState.Closing],
  [ConnState.UpgradeAsked]: [ConnState.Piping, ConnState.Reading, ConnState.Closing],
  [ConnState.Piping]: [ConnState.Closing],
  [ConnState.Closing]: [ConnState.Closing],
};

/** True if a connection in `from` may move to `to`. */
export function canMove(from: ConnState, to: ConnState): boolean {
  return NEXT_STATES[from].includes(to);
}

/**
 * The state after moving from `from` to `to`. A move {@link NEXT_STATES} does not allow is a bug
 * in the connection, never the peer's doing: it fails an assertion rather than carry on in a
 * state nobody reasoned about.
 */
export function moveTo(from: ConnState, to: ConnState): ConnState {
  assert.ok(canMove(from, to), `public connection cannot move from ${from} to ${to}`);
  return to;
}

/** True while request heads may still arrive and be forwarded (before an upgrade, before closing). */
export function readsRequests(s: ConnState): boolean {
  return s === ConnState.Reading || s === ConnState.HeadHeld;
}

/** True while the socket is paused for the connection's own reasons (a held head, an upgrade's answer, closing), not for back-pressure. */
export function holdsReading(s: ConnState): boolean {
  return s === ConnState.HeadHeld || s === ConnState.UpgradeAsked || s === ConnState.Closing;
}
