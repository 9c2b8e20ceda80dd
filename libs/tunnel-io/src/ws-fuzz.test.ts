import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@tunnel/tunnel-protocol';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS, anyBytesArb, cutsArb, mutated, onlyThrows, splitAt } from '@tunnel/tunnel-protocol/testing';
import { WsFrameDecoder, WsOpcode, encodeWsClosePayload, encodeWsHeader } from './ws-codec.ts';

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

describe('fuzz: WebSocket frame decoder', () => {
  it.each([
    ['random bytes', anyBytesArb],
    ['mutated valid frames', mutated(WS_CORPUS)],
  ])(
    '%s, split anywhere, either side: payloads or a ProtocolError, never a hang',
    (_name, input) => {
      fc.assert(
        fc.property(input, cutsArb, fc.boolean(), (bytes, cuts, expectMasked) => {
          let seen = 0;
          const dec = new WsFrameDecoder(expectMasked, { data: (p) => (seen += p.length), control: (_op, p) => (seen += p.length) });
          onlyThrows(ProtocolError, () => {
            for (const piece of splitAt(bytes, cuts)) dec.push(piece);
          });
          expect(seen).toBeLessThanOrEqual(bytes.length);
        }),
        FUZZ_RUNS,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
