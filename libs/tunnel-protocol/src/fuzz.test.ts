import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './decode.ts';
import { encodeFrame, encodeGoAway, encodePing, encodeReset, encodeWindow } from './encode.ts';
import { ProtocolError, TunnelError } from './errors.ts';
import { FrameFlag, FrameType } from './frame.ts';
import { encodeOpenHead } from './head.ts';
import { Session } from './session.ts';
import { cutsArb, mutated, splitAt } from './testing/index.ts';
import { WsFrameDecoder, WsOpcode, encodeWsClosePayload, encodeWsHeader } from './transport/ws-codec.ts';

/** 10,000 cases per property (the bar); inputs stay small so the suite takes seconds. */
const RUNS = { numRuns: 10_000 };
/** Generous: 10,000 cases take a few seconds, more on a loaded machine; a hang still fails. */
const FUZZ_TIMEOUT_MS = 120_000;
const anyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

function masked(opcode: number, payload: Buffer, key: number[], fin = true): Buffer {
  const header = encodeWsHeader(opcode, payload.length, true);
  if (!fin) header[0] &= 0x7f;
  Buffer.from(key).copy(header, header.length - 4);
  return Buffer.concat([header, Buffer.from(payload.map((x, i) => x ^ key[i & 3]))]);
}

const WS_CORPUS = [
  Buffer.concat([masked(WsOpcode.BINARY, Buffer.from('hello'), [1, 2, 3, 4]), masked(WsOpcode.PING, Buffer.from('p'), [0, 0, 0, 0])]),
  Buffer.concat([
    masked(WsOpcode.BINARY, Buffer.alloc(130, 7), [9, 9, 9, 9], false),
    masked(WsOpcode.CONTINUATION, Buffer.from('x'), [0, 0, 0, 0]),
  ]),
  masked(WsOpcode.CLOSE, encodeWsClosePayload(1000, 'bye'), [5, 6, 7, 8]),
];

const OPEN = encodeOpenHead({
  kind: 'http',
  method: 'GET',
  target: '/',
  authority: 'a.test',
  remoteAddress: '1.2.3.4',
  remotePort: 1,
  headers: ['A', 'b'],
});
const FRAME_CORPUS = [
  Buffer.concat([
    encodeFrame(FrameType.OPEN, 0, 1, OPEN),
    encodeFrame(FrameType.DATA, 0, 1, Buffer.from('body')),
    encodeFrame(FrameType.DATA, FrameFlag.FIN, 1),
  ]),
  Buffer.concat([encodePing(Buffer.alloc(8, 1), false), encodeWindow(1, 4096), encodeReset(3, 0), encodeGoAway(0)]),
];

/** Runs `fn`; anything thrown must be one of the protocol's typed errors. */
function typed(fn: () => void, type: typeof TunnelError = TunnelError): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
  }
}

describe('fuzz: WebSocket frame decoder', () => {
  it.each([
    ['random bytes', anyBytes],
    ['mutated valid frames', mutated(WS_CORPUS)],
  ])(
    '%s, split anywhere, either side: payloads or a ProtocolError, never a hang',
    (_name, input) => {
      fc.assert(
        fc.property(input, cutsArb, fc.boolean(), (bytes, cuts, expectMasked) => {
          let seen = 0;
          const dec = new WsFrameDecoder(expectMasked, { data: (p) => (seen += p.length), control: (_op, p) => (seen += p.length) });
          typed(() => {
            for (const piece of splitAt(bytes, cuts)) dec.push(piece);
          }, ProtocolError);
          expect(seen).toBeLessThanOrEqual(bytes.length);
        }),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('fuzz: tunnel frame decoder', () => {
  it.each([
    ['random bytes', anyBytes],
    ['mutated valid frames', mutated(FRAME_CORPUS)],
  ])(
    '%s, split anywhere: frames or a typed error, never a hang',
    (_name, input) => {
      fc.assert(
        fc.property(input, cutsArb, (bytes, cuts) => {
          let payload = 0;
          const dec = new FrameDecoder({ maxFrameBytes: 1024, maxHeaderBytes: 256 }, (f) => (payload += f.payload.length));
          typed(() => {
            for (const piece of splitAt(bytes, cuts)) dec.write(piece);
          });
          expect(payload).toBeLessThanOrEqual(bytes.length);
        }),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a session fed mutated frames closes with a typed error or carries on; it never throws',
    () => {
      fc.assert(
        fc.property(mutated(FRAME_CORPUS), cutsArb, (bytes, cuts) => {
          const transport = { bind: () => {}, write: () => true, close: () => {}, pause: () => {}, resume: () => {}, bufferedBytes: 0 };
          let closedWith: unknown = 'open';
          const session = new Session({
            role: 'server',
            transport,
            limits: { pingIntervalMs: 0, maxFrameBytes: 1024, maxHeaderBytes: 256 },
            onStream: (s) => {
              s.on('error', () => {});
              s.resume();
            },
          });
          session.on('close', (err) => (closedWith = err));
          for (const piece of splitAt(bytes, cuts)) session.receive(piece);
          if (closedWith !== 'open' && closedWith !== undefined) expect(closedWith).toBeInstanceOf(TunnelError);
          session.destroy();
        }),
        RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
