import { describe, expect, it } from 'vitest';
import { lend, leaseBytes, ownBytes, readNow, type Borrowed } from './borrowed.ts';
import { feedBorrowed } from './testing/borrowed.ts';

// Type-level checks: typecheck covers this file, so each @ts-expect-error fails the build the day
// the line below it compiles (a Borrowed that could be kept as a Buffer).

class Keeper {
  kept: Uint8Array | undefined;
  queue: Buffer[] = [];
}

describe('Borrowed', () => {
  it('cannot be kept as a Buffer or Uint8Array without ownBytes or leaseBytes', () => {
    const keeper = new Keeper();
    feedBorrowed([Buffer.from('abc')], (view) => {
      const b: Borrowed = lend(view);
      // @ts-expect-error a borrowed view is not a Uint8Array: storing it in a field does not compile
      keeper.kept = b;
      // @ts-expect-error nor queueing it
      keeper.queue.push(b);
      // @ts-expect-error nor a view of part of it
      keeper.queue.push(b.subarray(1));
      // @ts-expect-error nor handing it to what takes a Buffer (a socket write, Buffer.concat)
      Buffer.concat([b]);
      keeper.kept = ownBytes(b);
      const leased = leaseBytes(b);
      keeper.queue.push(leased.bytes);
      leased.release?.();
      // Reads need nothing: index, length, read*, toString.
      expect([b[0], b.length, b.readUInt8(1), b.toString('latin1', 2)]).toEqual([0x61, 3, 0x62, 'c']);
      expect(readNow(b).equals(Buffer.from('abc'))).toBe(true);
    });
    // The copy outlived the view, which feedBorrowed overwrote with 0xEE after the call.
    expect(Buffer.from(keeper.kept ?? []).toString()).toBe('abc');
  });

  it('accepts any Buffer where bytes may be borrowed', () => {
    const owned: Borrowed = Buffer.from('xy');
    expect(ownBytes(owned)).toBe(owned);
  });
});
