import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, checkHeader, type DecoderLimits } from './decode.ts';
import { readNow } from './borrowed.ts';
import { encodeFrame, encodeGoAway, encodeHeader, encodePing, encodeReset, encodeU32Frame, encodeWindow } from './encode.ts';
import { LimitError, ProtocolError, TunnelError } from './errors.ts';
import { FRAME_HEADER_BYTES, FrameFlag, FrameType, type Frame, type FrameTypeValue } from './frame.ts';
import { encodeOpenHead, encodeResponseHead } from './head.ts';
import { feedBorrowed, splitAt } from './testing/borrowed.ts';
import { SAMPLE_HTTP_HEAD } from './testing/sample-heads.ts';

const LIMITS: DecoderLimits = { maxFrameBytes: 64 * 1024, maxHeaderBytes: 16 * 1024 };

interface PlainFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Decodes, joining the pieces of each streamed DATA frame back into one frame. */
function decodeAll(chunks: Buffer[], limits: DecoderLimits = LIMITS): PlainFrame[] {
  const out: PlainFrame[] = [];
  let open: PlainFrame | undefined;
  const dec = new FrameDecoder(limits, (f: Frame) => {
    if (open) {
      expect([f.type, f.streamId, f.flags]).toEqual([open.type, open.streamId, open.flags]);
      open.payload = Buffer.concat([open.payload, readNow(f.payload)]);
    } else {
      open = { type: f.type, flags: f.flags, streamId: f.streamId, payload: Buffer.from(f.payload) };
    }
    if (f.more) {
      expect(f.type).toBe(FrameType.DATA);
      return;
    }
    out.push(open);
    open = undefined;
  });
  for (const c of chunks) dec.write(c);
  expect(dec.bufferedBytes).toBe(0);
  expect(open).toBeUndefined();
  return out;
}

describe('frame encoding round trips', () => {
  const payload = Buffer.from('hello, tunnel');
  const cases: Array<{ name: string; buf: Buffer; expected: PlainFrame }> = [
    { name: 'DATA', buf: encodeFrame(FrameType.DATA, 0, 1, payload), expected: { type: FrameType.DATA, flags: 0, streamId: 1, payload } },
    {
      name: 'DATA FIN empty',
      buf: encodeFrame(FrameType.DATA, FrameFlag.FIN, 7, Buffer.alloc(0)),
      expected: { type: FrameType.DATA, flags: FrameFlag.FIN, streamId: 7, payload: Buffer.alloc(0) },
    },
    {
      name: 'DATA no payload arg',
      buf: encodeFrame(FrameType.DATA, FrameFlag.FIN, 9),
      expected: { type: FrameType.DATA, flags: FrameFlag.FIN, streamId: 9, payload: Buffer.alloc(0) },
    },
    {
      name: 'OPEN',
      buf: encodeFrame(FrameType.OPEN, FrameFlag.FIN, 0xfffffffd, encodeOpenHead(SAMPLE_HTTP_HEAD)),
      expected: { type: FrameType.OPEN, flags: FrameFlag.FIN, streamId: 0xfffffffd, payload: encodeOpenHead(SAMPLE_HTTP_HEAD) },
    },
    {
      name: 'REPLY',
      buf: encodeFrame(FrameType.REPLY, 0, 2, encodeResponseHead({ status: 200, statusMessage: '' })),
      expected: {
        type: FrameType.REPLY,
        flags: 0,
        streamId: 2,
        payload: encodeResponseHead({ status: 200, statusMessage: '' }),
      },
    },
    {
      name: 'WINDOW',
      buf: encodeWindow(3, 0xffffffff),
      expected: { type: FrameType.WINDOW, flags: 0, streamId: 3, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
    },
    {
      name: 'RESET',
      buf: encodeReset(5, 6),
      expected: { type: FrameType.RESET, flags: 0, streamId: 5, payload: Buffer.from([0, 0, 0, 6]) },
    },
    {
      name: 'PING',
      buf: encodePing(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), false),
      expected: { type: FrameType.PING, flags: 0, streamId: 0, payload: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) },
    },
    {
      name: 'PING ACK',
      buf: encodePing(Buffer.alloc(8, 9), true),
      expected: { type: FrameType.PING, flags: FrameFlag.ACK, streamId: 0, payload: Buffer.alloc(8, 9) },
    },
    {
      name: 'GOAWAY',
      buf: encodeGoAway(2),
      expected: { type: FrameType.GOAWAY, flags: 0, streamId: 0, payload: Buffer.from([0, 0, 0, 2]) },
    },
    {
      name: 'u32 frame',
      buf: encodeU32Frame(FrameType.WINDOW, 0, 11, 65536),
      expected: { type: FrameType.WINDOW, flags: 0, streamId: 11, payload: Buffer.from([0, 1, 0, 0]) },
    },
  ];

  it.each(cases)('$name', ({ buf, expected }) => {
    expect(buf.length).toBe(FRAME_HEADER_BYTES + expected.payload.length);
    expect(decodeAll([buf])).toEqual([expected]);
  });

  it('encodeHeader + separate payload equals encodeFrame', () => {
    const p = Buffer.alloc(20_000, 7);
    const joined = Buffer.concat([encodeHeader(FrameType.DATA, FrameFlag.FIN, 42, p.length), p]);
    expect(joined.equals(encodeFrame(FrameType.DATA, FrameFlag.FIN, 42, p))).toBe(true);
  });

  it('lays out the 10-byte header as u8 type, u8 flags, u32 BE id, u32 BE length', () => {
    const buf = encodeFrame(FrameType.DATA, FrameFlag.FIN, 0x01020304, Buffer.from([0xaa]));
    expect([...buf]).toEqual([0, 1, 1, 2, 3, 4, 0, 0, 0, 1, 0xaa]);
  });
});

describe('FrameDecoder', () => {
  const frameArb: fc.Arbitrary<PlainFrame> = fc.oneof(
    fc.record({
      type: fc.constant(FrameType.DATA),
      flags: fc.integer({ min: 0, max: 1 }),
      streamId: fc.integer({ min: 1, max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    }),
    fc.record({
      type: fc.constantFrom(FrameType.OPEN, FrameType.REPLY),
      flags: fc.integer({ min: 0, max: 1 }),
      streamId: fc.integer({ min: 1, max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 500 }).map((a) => Buffer.from(a)),
    }),
    fc.record({
      type: fc.constantFrom(FrameType.WINDOW, FrameType.RESET),
      flags: fc.constant(0),
      streamId: fc.integer({ min: 1, max: 0xffffffff }),
      payload: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)),
    }),
    fc.record({
      type: fc.constant(FrameType.PING),
      flags: fc.constantFrom(0, FrameFlag.ACK),
      streamId: fc.constant(0),
      payload: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a)),
    }),
    fc.record({
      type: fc.constant(FrameType.GOAWAY),
      flags: fc.constant(0),
      streamId: fc.constant(0),
      payload: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)),
    }),
  );

  it('yields identical frames under thousands of random chunk splits', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.type as FrameTypeValue, f.flags, f.streamId, f.payload)));
        const got = decodeAll(splitAt(wire, cuts));
        expect(got).toEqual(frames);
      }),
      { numRuns: 3000 },
    );
  });

  it('yields identical frames when its input is a borrowed read buffer overwritten after each write', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.type as FrameTypeValue, f.flags, f.streamId, f.payload)));
        const got: PlainFrame[] = [];
        let open: PlainFrame | undefined;
        const dec = new FrameDecoder(LIMITS, (f: Frame) => {
          // The contract: a payload is used (here: copied) during the call.
          if (open) open.payload = Buffer.concat([open.payload, readNow(f.payload)]);
          else open = { type: f.type, flags: f.flags, streamId: f.streamId, payload: Buffer.from(f.payload) };
          if (f.more) return;
          got.push(open);
          open = undefined;
        });
        feedBorrowed(splitAt(wire, cuts), (view) => dec.write(view));
        expect(got).toEqual(frames);
      }),
      { numRuns: 1000 },
    );
  });

  it('handles byte-by-byte feeding and empty chunks', () => {
    const frames: PlainFrame[] = [
      { type: FrameType.DATA, flags: 1, streamId: 1, payload: Buffer.from('abc') },
      { type: FrameType.PING, flags: 0, streamId: 0, payload: Buffer.alloc(8, 1) },
      { type: FrameType.DATA, flags: 0, streamId: 3, payload: Buffer.alloc(0) },
    ];
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f.type as FrameTypeValue, f.flags, f.streamId, f.payload)));
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) chunks.push(Buffer.alloc(0), wire.subarray(i, i + 1));
    expect(decodeAll(chunks)).toEqual(frames);
  });

  function errorOf(buf: Buffer, limits: DecoderLimits = LIMITS): unknown {
    const dec = new FrameDecoder(limits, () => {});
    try {
      dec.write(buf);
    } catch (e) {
      return e;
    }
    return undefined;
  }

  function header(type: number, streamId: number, length: number): Buffer {
    const b = Buffer.alloc(FRAME_HEADER_BYTES);
    b[0] = type;
    b.writeUInt32BE(streamId, 2);
    b.writeUInt32BE(length, 6);
    return b;
  }

  const bad: Array<{ name: string; buf: Buffer; cls: typeof ProtocolError | typeof LimitError; code: string }> = [
    { name: 'unknown type 8', buf: header(8, 1, 0), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'PEERS on a stream id', buf: header(FrameType.PEERS, 3, 2), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'PEERS over its size limit', buf: header(FrameType.PEERS, 0, 9 * 1024 + 1), cls: LimitError, code: 'TUN_ERR_FRAME_TOO_LARGE' },
    { name: 'unknown type 255', buf: header(255, 1, 0), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'WINDOW of 3 bytes', buf: header(FrameType.WINDOW, 1, 3), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'RESET of 5 bytes', buf: header(FrameType.RESET, 1, 5), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'GOAWAY of 0 bytes', buf: header(FrameType.GOAWAY, 0, 0), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'PING of 4 bytes', buf: header(FrameType.PING, 0, 4), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'PING on a stream id', buf: header(FrameType.PING, 5, 8), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'GOAWAY on a stream id', buf: header(FrameType.GOAWAY, 5, 4), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'DATA on stream 0', buf: header(FrameType.DATA, 0, 1), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'OPEN on stream 0', buf: header(FrameType.OPEN, 0, 3), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'WINDOW on stream 0', buf: header(FrameType.WINDOW, 0, 4), cls: ProtocolError, code: 'TUN_ERR_PROTOCOL' },
    { name: 'DATA over maxFrameBytes', buf: header(FrameType.DATA, 1, 64 * 1024 + 1), cls: LimitError, code: 'TUN_ERR_FRAME_TOO_LARGE' },
    { name: 'DATA with length 2^32-1', buf: header(FrameType.DATA, 1, 0xffffffff), cls: LimitError, code: 'TUN_ERR_FRAME_TOO_LARGE' },
    { name: 'OPEN over maxHeaderBytes', buf: header(FrameType.OPEN, 1, 16 * 1024 + 1), cls: LimitError, code: 'TUN_ERR_HEADERS_TOO_LARGE' },
    {
      name: 'REPLY over maxHeaderBytes',
      buf: header(FrameType.REPLY, 2, 16 * 1024 + 1),
      cls: LimitError,
      code: 'TUN_ERR_HEADERS_TOO_LARGE',
    },
  ];

  it.each(bad)('rejects $name before buffering its payload', ({ buf, cls, code }) => {
    const e = errorOf(buf);
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(TunnelError);
    expect((e as TunnelError).code).toBe(code);
    // Same verdict when the header arrives in pieces after a good frame.
    const dec = new FrameDecoder(LIMITS, () => {});
    dec.write(encodeFrame(FrameType.DATA, 0, 1, Buffer.from('x')).subarray(0, 4));
    dec.write(Buffer.concat([encodeFrame(FrameType.DATA, 0, 1, Buffer.from('x')).subarray(4), buf.subarray(0, 3)]));
    let e2: unknown;
    try {
      dec.write(buf.subarray(3));
    } catch (err) {
      e2 = err;
    }
    expect(e2).toBeInstanceOf(cls);
    expect((e2 as TunnelError).code).toBe(code);
  });

  it('accepts frames exactly at the limits', () => {
    const limits = { maxFrameBytes: 100, maxHeaderBytes: 50 };
    expect(() => checkHeader(FrameType.DATA, 1, 100, limits)).not.toThrow();
    expect(() => checkHeader(FrameType.OPEN, 1, 50, limits)).not.toThrow();
    expect(() => checkHeader(FrameType.DATA, 1, 101, limits)).toThrow(LimitError);
  });

  it('is unusable after an error', () => {
    const dec = new FrameDecoder(LIMITS, () => {});
    expect(() => dec.write(header(9, 1, 0))).toThrow(ProtocolError);
    expect(() => dec.write(encodeGoAway(0))).toThrow(ProtocolError);
  });

  it('random garbage only ever throws a TunnelError and terminates', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 30 }), (chunks) => {
        const dec = new FrameDecoder({ maxFrameBytes: 1024, maxHeaderBytes: 256 }, () => {});
        try {
          for (const c of chunks) dec.write(Buffer.from(c));
        } catch (e) {
          expect(e).toBeInstanceOf(TunnelError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('garbage prefixed to valid frames never hangs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 32 }),
        fc.array(frameArb, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (junk, frames, cuts) => {
          const wire = Buffer.concat([
            Buffer.from(junk),
            ...frames.map((f) => encodeFrame(f.type as FrameTypeValue, f.flags, f.streamId, f.payload)),
          ]);
          const dec = new FrameDecoder(LIMITS, () => {});
          const pieces = splitAt(wire, cuts);
          try {
            for (const p of pieces) dec.write(p);
          } catch (e) {
            expect(e).toBeInstanceOf(TunnelError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
