import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeWindow } from './encode.ts';
import { ProtocolError, ResetCode, TunnelError } from './errors.ts';
import { FrameFlag, FrameType } from './frame.ts';
import { encodeOpenHead, type HttpRequestHead } from './head.ts';
import type { TunnelStream } from './stream.ts';
import {
  destroyTestSessions,
  httpHead,
  nextTurn,
  OK,
  readAll,
  serverWithRawPeer,
  sessions,
  sha,
  writeAll,
} from './testing/session-harness.ts';

describe('Session flow control: windows and transport backpressure', () => {
  afterEach(destroyTestSessions);

  it('a slow reader does not stall another stream, and its buffer stays bounded by its window', async () => {
    const window = 256 * 1024;
    let slowServerSide: TunnelStream | undefined;
    let maxSlowBuffered = 0;
    const sample = () => {
      if (slowServerSide) maxSlowBuffered = Math.max(maxSlowBuffered, slowServerSide.readableLength, slowServerSide.bytesIn);
    };
    let slowClient!: TunnelStream;
    let fastClient!: TunnelStream;
    const fastDigest = new Promise<{ digest: string; bytes: number }>((resolve, reject) => {
      const { client } = sessions({
        server: { streamWindow: window },
        client: { streamWindow: window },
        onServerStream: (s) => {
          s.on('error', reject);
          s.reply(OK);
          if ((s.head as HttpRequestHead).target === '/slow') {
            slowServerSide = s; // never read: the consumer is paused
            return;
          }
          const h = createHash('sha256');
          let bytes = 0;
          s.on('data', (c: Buffer) => {
            h.update(c);
            bytes += c.length;
            sample();
          });
          s.on('end', () => {
            sample();
            resolve({ digest: h.digest('hex'), bytes });
            s.end();
          });
        },
      });
      slowClient = client.openStream(httpHead('/slow', 'POST'));
      fastClient = client.openStream(httpHead('/fast', 'POST'));
    });
    const slowData = randomBytes(3 * 1024 * 1024);
    const fastData = randomBytes(6 * 1024 * 1024);
    let slowDone = false;
    const slowWriting = writeAll(slowClient, slowData, 32 * 1024).then(() => {
      slowDone = true;
    });
    void writeAll(fastClient, fastData, 64 * 1024);
    const fast = await fastDigest;
    expect(fast.bytes).toBe(fastData.length);
    expect(fast.digest).toBe(sha(fastData));
    expect(slowDone).toBe(false);
    const slow = slowServerSide as TunnelStream | undefined;
    if (!slow) throw new Error('slow stream never arrived');
    sample();
    expect(maxSlowBuffered).toBeLessThanOrEqual(window + 64 * 1024);
    expect(slow.bytesIn).toBeGreaterThan(0);

    // Resume the slow reader: everything arrives, intact.
    const slowBody = readAll(slow);
    await slowWriting;
    expect(sha(await slowBody)).toBe(sha(slowData));
  }, 60_000);

  it('resets a stream whose peer overruns the window with FLOW_CONTROL; other streams go on', async () => {
    const got: TunnelStream[] = [];
    const errs = new Map<number, Error>();
    const { server, peer } = serverWithRawPeer({ streamWindow: 1024 }, (s) => {
      got.push(s);
      s.on('error', (e) => errs.set(s.id, e));
    });
    peer.send(
      encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead('/a', 'POST'))),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(1000)),
    );
    peer.send(encodeFrame(FrameType.OPEN, 0, 3, encodeOpenHead(httpHead('/b', 'POST'))));
    // Stream 3: 1025 bytes in one frame against a 1024-byte window is an overrun.
    peer.send(encodeFrame(FrameType.DATA, 0, 3, Buffer.alloc(1025)));
    // Stream 1: exactly uses up its initial window (1000 + 24); not an overrun.
    peer.send(encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(24)));
    const rst = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 3);
    expect(rst.payload.readUInt32BE(0)).toBe(ResetCode.FLOW_CONTROL);
    expect(got.map((s) => s.id)).toEqual([1, 3]);
    while (!errs.has(3)) await nextTurn();
    expect(got[1].destroyed).toBe(true);
    expect(errs.get(3)).toBeInstanceOf(ProtocolError);
    expect((errs.get(3) as TunnelError).code).toBe('TUN_ERR_FLOW_CONTROL');
    // Stream 1 is unaffected and the session still open.
    expect(server.isClosed).toBe(false);
    expect(got[1].destroyed).toBe(true);
    expect(got[0].destroyed).toBe(false);
    expect(got[0].bytesIn).toBe(1024);
    got[0].reply(OK, true);
    const reply = await peer.waitFor((f) => f.type === FrameType.REPLY && f.streamId === 1);
    expect(reply.flags & FrameFlag.FIN).toBe(FrameFlag.FIN);
    expect(errs.has(1)).toBe(false);
    expect(peer.frames.some((f) => f.type === FrameType.RESET && f.streamId === 1)).toBe(false);
  });

  it('honours the window exactly: a peer that respects WINDOW credit is never reset', async () => {
    const body: Buffer[] = [];
    const { peer } = serverWithRawPeer({ streamWindow: 4096 }, (s) => s.on('data', (c: Buffer) => body.push(c)));
    peer.send(
      encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead('/a', 'POST'))),
      encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(4096, 1)),
    );
    const win = await peer.waitFor((f) => f.type === FrameType.WINDOW && f.streamId === 1);
    const credit = win.payload.readUInt32BE(0);
    expect(credit).toBeGreaterThan(0);
    peer.send(encodeFrame(FrameType.DATA, FrameFlag.FIN, 1, Buffer.alloc(credit, 2)));
    while (Buffer.concat(body).length < 4096 + credit) await nextTurn();
    expect(peer.frames.some((f) => f.type === FrameType.RESET)).toBe(false);
  });

  it.each([
    ['small pair highWaterMark', { highWaterMark: 16 * 1024 }, {}],
    ['session transportHighWaterMark below the pair’s', {}, { transportHighWaterMark: 64 * 1024 }],
  ])(
    'transport backpressure (%s) still delivers 20 MB intact and in order',
    async (_n, pair, limits) => {
      let received: Promise<Buffer> | undefined;
      const { client } = sessions({
        pair,
        client: limits,
        server: limits,
        onServerStream: (s) => {
          s.reply(OK);
          received = readAll(s).then((b) => {
            s.end();
            return b;
          });
        },
      });
      const block = randomBytes(1024 * 1024);
      const data = Buffer.concat(Array.from({ length: 20 }, (_, i) => Buffer.concat([block.subarray(i), block.subarray(0, i)])));
      const st = client.openStream(httpHead('/big', 'POST'));
      const sizes = [1, 100, 16 * 1024 - 1, 16 * 1024, 70_000, 200_000];
      let off = 0;
      for (let i = 0; off < data.length; i++) {
        const n = sizes[i % sizes.length];
        if (!st.write(data.subarray(off, off + n))) await once(st, 'drain');
        off += n;
      }
      st.end();
      while (!received) await nextTurn();
      const got = await received;
      expect(got.length).toBe(data.length);
      expect(sha(got)).toBe(sha(data));
    },
    60_000,
  );

  it('WINDOW overflow past 2^31-1 resets the stream with FLOW_CONTROL', async () => {
    let srv: TunnelStream | undefined;
    const { peer } = serverWithRawPeer({}, (s) => (srv = s));
    peer.send(encodeFrame(FrameType.OPEN, 0, 1, encodeOpenHead(httpHead())));
    while (!srv) await nextTurn();
    srv.on('error', () => {});
    peer.send(encodeWindow(1, 0x7fffffff));
    const r = await peer.waitFor((f) => f.type === FrameType.RESET && f.streamId === 1);
    expect(r.payload.readUInt32BE(0)).toBe(ResetCode.FLOW_CONTROL);
  });
});
