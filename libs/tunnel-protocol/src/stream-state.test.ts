import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, ResetCode, StreamResetError } from './errors.ts';
import type { ResponseHead } from './head.ts';
import {
  isStreamFault,
  isStreamFinished,
  nextReplyState,
  nextStreamState,
  ReplyEvent,
  ReplyState,
  STREAM_TRANSITIONS,
  StreamEvent,
  streamFaultError,
  StreamFault,
  StreamState,
  type StreamEventValue,
  type StreamStateValue,
} from './stream-state.ts';
import { TunnelStream, type StreamHost } from './stream.ts';

const S = StreamState;
const E = StreamEvent;
const F = StreamFault;

// The protocol's stream lifecycle written out pair by pair, independently of the table it checks.
const EXPECTED: ReadonlyArray<readonly [StreamStateValue, StreamEventValue, string]> = [
  [S.OPEN, E.SEND_FIN, S.LOCAL_CLOSED],
  [S.OPEN, E.WRITE, S.OPEN],
  [S.OPEN, E.RECV_DATA, S.OPEN],
  [S.OPEN, E.RECV_FIN, S.REMOTE_CLOSED],
  [S.OPEN, E.SEND_RESET, S.RESET],
  [S.OPEN, E.RECV_RESET, S.RESET],
  [S.OPEN, E.SESSION_CLOSED, S.RESET],
  [S.LOCAL_CLOSED, E.SEND_FIN, S.LOCAL_CLOSED],
  [S.LOCAL_CLOSED, E.WRITE, S.LOCAL_CLOSED],
  [S.LOCAL_CLOSED, E.RECV_DATA, S.LOCAL_CLOSED],
  [S.LOCAL_CLOSED, E.RECV_FIN, S.CLOSED],
  [S.LOCAL_CLOSED, E.SEND_RESET, S.RESET],
  [S.LOCAL_CLOSED, E.RECV_RESET, S.RESET],
  [S.LOCAL_CLOSED, E.SESSION_CLOSED, S.RESET],
  [S.REMOTE_CLOSED, E.SEND_FIN, S.CLOSED],
  [S.REMOTE_CLOSED, E.WRITE, S.REMOTE_CLOSED],
  [S.REMOTE_CLOSED, E.RECV_DATA, F.DATA_AFTER_FIN],
  [S.REMOTE_CLOSED, E.RECV_FIN, F.DATA_AFTER_FIN],
  [S.REMOTE_CLOSED, E.SEND_RESET, S.RESET],
  [S.REMOTE_CLOSED, E.RECV_RESET, S.RESET],
  [S.REMOTE_CLOSED, E.SESSION_CLOSED, S.RESET],
  [S.CLOSED, E.SEND_FIN, S.CLOSED],
  [S.CLOSED, E.WRITE, F.WRITE_AFTER_CLOSE],
  [S.CLOSED, E.RECV_DATA, F.DATA_AFTER_FIN],
  [S.CLOSED, E.RECV_FIN, F.DATA_AFTER_FIN],
  [S.CLOSED, E.SEND_RESET, S.CLOSED],
  [S.CLOSED, E.RECV_RESET, S.CLOSED],
  [S.CLOSED, E.SESSION_CLOSED, S.CLOSED],
  [S.RESET, E.SEND_FIN, S.RESET],
  [S.RESET, E.WRITE, F.WRITE_AFTER_CLOSE],
  [S.RESET, E.RECV_DATA, S.RESET],
  [S.RESET, E.RECV_FIN, S.RESET],
  [S.RESET, E.SEND_RESET, S.RESET],
  [S.RESET, E.RECV_RESET, S.RESET],
  [S.RESET, E.SESSION_CLOSED, S.RESET],
];

describe('stream state table', () => {
  it('lists every (state, event) pair exactly once', () => {
    const pairs = EXPECTED.map(([s, e]) => `${s}/${e}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(pairs.length).toBe(Object.keys(StreamState).length * Object.keys(StreamEvent).length);
    expect(Object.keys(STREAM_TRANSITIONS).sort()).toEqual(Object.values(StreamState).sort());
  });

  it.each(EXPECTED)('%s + %s -> %s', (state, event, expected) => {
    expect(nextStreamState(state, event)).toBe(expected);
  });

  it('a finished state is never left, and only the peer or a write can fault there', () => {
    for (const state of Object.values(StreamState).filter(isStreamFinished)) {
      for (const event of Object.values(StreamEvent)) {
        const next = nextStreamState(state, event);
        expect(isStreamFault(next) || next === state).toBe(true);
      }
    }
  });

  it('resets lead every unfinished state to RESET', () => {
    for (const state of Object.values(StreamState).filter((s) => !isStreamFinished(s))) {
      for (const event of [E.SEND_RESET, E.RECV_RESET, E.SESSION_CLOSED]) expect(nextStreamState(state, event)).toBe(S.RESET);
    }
  });

  it('one REPLY per stream: a second one from the peer is a fault, a second reply() is ignored', () => {
    expect(nextReplyState(ReplyState.AWAITING, ReplyEvent.SEND_REPLY)).toBe(ReplyState.SENT);
    expect(nextReplyState(ReplyState.AWAITING, ReplyEvent.RECV_REPLY)).toBe(ReplyState.RECEIVED);
    expect(nextReplyState(ReplyState.SENT, ReplyEvent.SEND_REPLY)).toBe(ReplyState.SENT);
    expect(nextReplyState(ReplyState.SENT, ReplyEvent.RECV_REPLY)).toBe(F.SECOND_REPLY);
    expect(nextReplyState(ReplyState.RECEIVED, ReplyEvent.SEND_REPLY)).toBe(ReplyState.RECEIVED);
    expect(nextReplyState(ReplyState.RECEIVED, ReplyEvent.RECV_REPLY)).toBe(F.SECOND_REPLY);
  });

  it('each fault raises its typed error', () => {
    const dataAfterFin = streamFaultError(F.DATA_AFTER_FIN, 7);
    expect(dataAfterFin).toBeInstanceOf(ProtocolError);
    expect(dataAfterFin.code).toBe('TUN_ERR_STREAM_CLOSED');
    expect(dataAfterFin.message).toContain('DATA after FIN on stream 7');
    expect(streamFaultError(F.SECOND_REPLY, 7).code).toBe('TUN_ERR_PROTOCOL');
    const write = streamFaultError(F.WRITE_AFTER_CLOSE, 7);
    expect(write).toBeInstanceOf(StreamResetError);
    expect((write as StreamResetError).reason).toBe(ResetCode.CANCEL);
  });
});

/** A host that records what the stream sends. */
function recordingHost() {
  const sent: string[] = [];
  let closedCalls = 0;
  const host: StreamHost = {
    maxFrameBytes: 1024,
    sendData: (_id, payload, fin) => sent.push(fin ? 'FIN' : `DATA:${payload.length}`),
    sendReply: (_id, _head, fin) => sent.push(fin ? 'REPLY+FIN' : 'REPLY'),
    sendWindow: () => sent.push('WINDOW'),
    sendReset: (_id, reason) => sent.push(`RESET:${reason}`),
    whenWritable: (cb) => cb(),
    streamClosed: () => closedCalls++,
  };
  return { host, sent, closed: () => closedCalls };
}

/** A stream on `host` whose readable side is consumed (so its 'end' can come). */
function flowingStream(host: StreamHost): TunnelStream {
  const st = new TunnelStream(
    host,
    1,
    { kind: 'tcp', port: 1, remoteAddress: '', remotePort: 0, localAddress: '' },
    { sendWindow: 1 << 16, recvWindow: 1 << 16 },
  );
  st.resume();
  return st;
}

const OK: ResponseHead = { status: 200, statusMessage: '' };
const tick = () => new Promise<void>((r) => setImmediate(r));

/** What a session or a consumer can do to a stream; each step runs one of them. */
const STEPS: Record<string, (s: TunnelStream) => void> = {
  recvData: (s) => s.handleData(Buffer.alloc(10), false),
  recvFin: (s) => s.handleData(Buffer.alloc(0), true),
  recvReply: (s) => s.handleReply(OK, false),
  recvReplyFin: (s) => s.handleReply(OK, true),
  recvReset: (s) => s.handleReset(ResetCode.CANCEL),
  sessionClosed: (s) => s.handleSessionClosed(new ProtocolError('TUN_ERR_SESSION_CLOSED')),
  reply: (s) => s.reply(OK),
  replyFin: (s) => s.reply(OK, true),
  end: (s) => s.end(),
  reset: (s) => s.reset(ResetCode.CANCEL),
  destroy: (s) => s.destroy(),
};

describe('TunnelStream follows the table', () => {
  it('a request/response exchange walks OPEN -> LOCAL_CLOSED -> CLOSED and is forgotten once', async () => {
    const { host, sent, closed } = recordingHost();
    const st = flowingStream(host);
    expect(st.lifecycle).toBe(S.OPEN);
    st.end();
    await tick();
    expect(st.lifecycle).toBe(S.LOCAL_CLOSED);
    st.handleReply(OK, true);
    expect(st.lifecycle).toBe(S.CLOSED);
    expect(closed()).toBe(1);
    expect(sent).toEqual(['FIN']);
  });

  it('keeps its invariants under any sequence of events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...Object.keys(STEPS)), { maxLength: 12 }), async (steps) => {
        const { host, sent, closed } = recordingHost();
        const st = flowingStream(host);
        for (const step of steps) {
          STEPS[step](st);
          await tick();
          // The session is told exactly when the stream finished, and only once.
          expect(closed()).toBe(isStreamFinished(st.lifecycle) ? 1 : 0);
        }
        // At most one FIN and one RESET leave, and nothing after a RESET.
        expect(sent.filter((f) => f === 'FIN' || f === 'REPLY+FIN').length).toBeLessThanOrEqual(1);
        const resets = sent.filter((f) => f.startsWith('RESET'));
        expect(resets.length).toBeLessThanOrEqual(1);
        if (resets.length === 1) expect(sent.at(-1)).toBe(resets[0]);
        expect(sent.filter((f) => f.startsWith('REPLY')).length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
