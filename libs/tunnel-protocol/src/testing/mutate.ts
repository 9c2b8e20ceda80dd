import fc from 'fast-check';

/** One edit of a byte string, as the fuzzers apply it. */
type Edit =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number };

/** Bytes that break parsers most often: CR, LF, SP, HTAB, VT, NUL, DEL, NBSP, ':', ',', ';', digits, hex. */
const INTERESTING = [
  0x0d, 0x0a, 0x20, 0x09, 0x0b, 0x00, 0x7f, 0xa0, 0xff, 0x3a, 0x2c, 0x3b, 0x30, 0x35, 0x39, 0x46, 0x80, 0x81, 0x88, 0x7e,
];

const byteArb = fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 }));

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: byteArb }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(byteArb, { minLength: 1, maxLength: 8 }).map((a) => Uint8Array.from(a)),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
);

function apply(input: Buffer, edit: Edit): Buffer {
  const at = input.length === 0 ? 0 : edit.at % (input.length + 1);
  switch (edit.kind) {
    case 'flip': {
      if (input.length === 0) return Buffer.from([edit.byte]);
      const out = Buffer.from(input);
      out[Math.min(at, input.length - 1)] = edit.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([input.subarray(0, at), edit.bytes, input.subarray(at)]);
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + edit.length)]);
    case 'repeat':
      return Buffer.concat([input.subarray(0, at + edit.length), input.subarray(at)]);
  }
}

/**
 * Valid messages from `corpus`, each with 1-6 random edits (flipped, inserted, deleted or
 * repeated bytes, biased towards the bytes parsers trip on): the fuzzers' "mutated valid
 * messages", which reach far deeper into a parser than random bytes do.
 */
export function mutated(corpus: readonly Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...corpus), fc.array(editArb, { minLength: 1, maxLength: 6 }))
    .map(([seed, edits]) => edits.reduce(apply, seed));
}

/** Where to cut a buffer into reads: up to 12 cut points (see splitAt). */
export const cutsArb = fc.array(fc.nat(), { maxLength: 12 });
