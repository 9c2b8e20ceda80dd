import { describe, expect, it } from 'vitest';
import { encodeFrame, encodePing } from './encode.ts';
import { FrameType } from './frame.ts';
import { ReplyBacklog } from './reply-backlog.ts';
import { Session } from './session.ts';
import { createTransportPair, realClock } from './testing/index.ts';

const HWM = 64 * 1024;
const MAX_REPLIES = 32;

/** A session whose peer is a raw transport end the test drives: it writes frames and reads nothing. */
function flooded() {
  const [ours, theirs] = createTransportPair({ highWaterMark: HWM });
  const session = new Session({
    clock: realClock,
    role: 'server',
    transport: ours,
    limits: { pingIntervalMs: 0, idleTimeoutMs: 0, transportHighWaterMark: HWM, maxQueuedReplies: MAX_REPLIES },
  });
  let received = 0;
  theirs.bind({ data: (c) => (received += c.length), drain: () => {}, close: () => {} });
  return { session, ours, theirs, received: () => received };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

describe('ReplyBacklog', () => {
  it('sends freely while the peer reads, pauses at the bound while it does not, drops past it', () => {
    const b = new ReplyBacklog(3);
    expect(b.due(false)).toBe('send');
    expect([b.due(true), b.due(true), b.due(true)]).toEqual(['send', 'send', 'pause']);
    expect(b.full).toBe(true);
    expect(b.due(false)).toBe('drop');
    expect(b.dropped).toBe(1);
    b.drained();
    expect(b.full).toBe(false);
    expect(b.due(true)).toBe('send');
  });
});

describe('a peer that floods PINGs and RESET-inducing frames without reading', () => {
  it.each([
    ['PINGs', () => encodePing(Buffer.alloc(8, 7), false)],
    ['DATA for streams that do not exist', (i: number) => encodeFrame(FrameType.DATA, 0, 1001 + 2 * i, Buffer.alloc(1))],
  ])('%s: the write queue stays bounded and the socket is no longer read, until the peer reads again', async (_name, frame) => {
    const { session, ours, theirs, received } = flooded();
    theirs.pause(); // the flooder never reads what we answer
    const total = 20_000;
    // 20 000 requests for a reply (360 KB of PINGs), in writes of 500 frames.
    for (let i = 0; i < total; i += 500) {
      const batch: Buffer[] = [];
      for (let j = 0; j < 500; j++) batch.push(frame(i + j));
      theirs.write(batch);
    }
    await until(() => session.readsPaused);
    // Let every turn that could still deliver or answer run.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // Bounded: at most the high-water mark plus the replies owed past it (18 bytes each), never
    // 20 000 replies' worth.
    expect(ours.bufferedBytes).toBeLessThanOrEqual(HWM + MAX_REPLIES * 18 + 18);
    expect(ours.bufferedBytes).toBeLessThan(total * 18);
    expect(theirs.bufferedBytes).toBeGreaterThan(0); // the flood waits, unread, on the flooder's side
    expect(session.isClosed).toBe(false);
    // The peer reads again: we drain, read on, and the session is still usable.
    theirs.resume();
    await until(() => theirs.bufferedBytes === 0 && !session.readsPaused);
    expect(received()).toBeGreaterThan(0);
    expect(session.isClosed).toBe(false);
  });

  it('answers a PING at once when the peer reads (no pause, no drop)', async () => {
    const { session, theirs, received } = flooded();
    theirs.write([encodePing(Buffer.alloc(8, 1), false)]);
    await until(() => received() > 0);
    expect(received()).toBe(18);
    expect(session.readsPaused).toBe(false);
    expect(session.repliesDropped).toBe(0);
  });
});
