import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './decode.ts';
import { encodeFrame, encodeGoAway, encodePing, encodeReset, encodeWindow } from './encode.ts';
import { TunnelError } from './errors.ts';
import { FrameFlag, FrameType } from './frame.ts';
import { encodeOpenHead } from './head.ts';
import { Session } from './session.ts';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS, anyBytesArb, cutsArb, mutated, onlyThrows, splitAt, realClock } from './testing/index.ts';

const OPEN = encodeOpenHead({
  kind: 'http',
  method: 'GET',
  target: '/',
  authority: 'a.test',
  remoteAddress: '1.2.3.4',
  remotePort: 1,
});
const FRAME_CORPUS = [
  Buffer.concat([
    encodeFrame(FrameType.OPEN, 0, 1, OPEN),
    encodeFrame(FrameType.DATA, 0, 1, Buffer.from('body')),
    encodeFrame(FrameType.DATA, FrameFlag.FIN, 1),
  ]),
  Buffer.concat([encodePing(Buffer.alloc(8, 1), false), encodeWindow(1, 4096), encodeReset(3, 0), encodeGoAway(0)]),
];

describe('fuzz: tunnel frame decoder', () => {
  it.each([
    ['random bytes', anyBytesArb],
    ['mutated valid frames', mutated(FRAME_CORPUS)],
  ])(
    '%s, split anywhere: frames or a typed error, never a hang',
    (_name, input) => {
      fc.assert(
        fc.property(input, cutsArb, (bytes, cuts) => {
          let payload = 0;
          const dec = new FrameDecoder({ maxFrameBytes: 1024, maxHeaderBytes: 256 }, (f) => (payload += f.payload.length));
          onlyThrows(TunnelError, () => {
            for (const piece of splitAt(bytes, cuts)) dec.write(piece);
          });
          expect(payload).toBeLessThanOrEqual(bytes.length);
        }),
        FUZZ_RUNS,
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
            clock: realClock,
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
        FUZZ_RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
