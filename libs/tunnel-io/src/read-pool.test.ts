import { describe, expect, it } from 'vitest';
import { ReadBufferPool, type PooledReader } from './read-pool.ts';
import { isBorrowed, leaseReadBuffer, readNow } from '@tunnel/tunnel-protocol';

const KiB = 1024;

/** Simulates one socket read of `bytes` through `reader`, as node's `onread` does. */
function read(reader: PooledReader, bytes: Buffer): Buffer {
  const into = reader.next();
  bytes.copy(into);
  // The tests inspect the views themselves (offsets, reuse): read as Buffers on purpose.
  return readNow(reader.take(bytes.length, into));
}

/** A pool with small sizes so tests stay cheap: 64 KiB buffers, 16 KiB least room, 4 KiB quiet buffer. */
function smallPool(extra: ConstructorParameters<typeof ReadBufferPool>[0] = {}): ReadBufferPool {
  return new ReadBufferPool({ bufferBytes: 64 * KiB, minReadBytes: 16 * KiB, smallBytes: 4 * KiB, ...extra });
}

/** A reader that has filled the quiet buffer once, so its next read goes into a pooled buffer. */
function busyReader(pool: ReadBufferPool): PooledReader {
  const reader = pool.reader();
  read(reader, Buffer.alloc(4 * KiB, 1));
  return reader;
}

describe('ReadBufferPool', () => {
  it('gives a quiet socket copies out of the one shared buffer', () => {
    const pool = smallPool();
    const a = pool.reader();
    const b = pool.reader();
    expect(a.next()).toBe(pool.small);
    expect(b.next()).toBe(pool.small);
    const got = read(a, Buffer.from('hello'));
    expect(got.toString()).toBe('hello');
    expect(isBorrowed(got)).toBe(false);
    expect(pool.stats().acquired).toBe(0);
  });

  it('moves a socket to a pooled buffer once a read fills the shared one, and hands on borrowed views', () => {
    const pool = smallPool();
    const reader = busyReader(pool);
    const got = read(reader, Buffer.alloc(20 * KiB, 7));
    expect(isBorrowed(got)).toBe(true);
    expect(got.length).toBe(20 * KiB);
    expect(got.every((b) => b === 7)).toBe(true);
    expect(pool.stats().acquired).toBe(1);
  });

  it('reads into the same warm memory again when nothing was kept', () => {
    const pool = smallPool();
    const reader = busyReader(pool);
    const first = read(reader, Buffer.alloc(20 * KiB, 1));
    const second = read(reader, Buffer.alloc(20 * KiB, 2));
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
    // The unleased first view was overwritten: the contract is to use it during delivery only.
    expect(first[0]).toBe(2);
  });

  it.each([
    ['after the leased bytes while enough room is left', 20 * KiB, 'same'],
    ['in another buffer once less than minReadBytes is left', 50 * KiB, 'other'],
  ])('puts the next read %s', (_name, size, where) => {
    const pool = smallPool();
    const reader = busyReader(pool);
    const first = read(reader, Buffer.alloc(size, 1));
    const release = leaseReadBuffer(first);
    const second = read(reader, Buffer.alloc(size, 2));
    expect(first.every((b) => b === 1)).toBe(true);
    if (where === 'same') {
      expect(second.buffer).toBe(first.buffer);
      expect(second.byteOffset).toBe(first.byteOffset + size);
    } else {
      expect(second.buffer).not.toBe(first.buffer);
    }
    release?.();
  });

  it('returns a buffer to the pool only when its socket left it and its last lease ended', () => {
    const pool = smallPool({ poison: true });
    const reader = busyReader(pool);
    const first = read(reader, Buffer.alloc(50 * KiB, 1));
    const releaseA = leaseReadBuffer(first.subarray(0, 10));
    const releaseB = leaseReadBuffer(first.subarray(10, 20));
    read(reader, Buffer.alloc(50 * KiB, 2)); // leaves the first buffer (too little room)
    expect(pool.stats().freeBuffers).toBe(0);
    releaseA?.();
    releaseA?.(); // a second call is a no-op, not a second release
    expect(pool.stats().freeBuffers).toBe(0);
    expect(first.every((b) => b === 1)).toBe(true);
    releaseB?.();
    expect(pool.stats().freeBuffers).toBe(1);
    // Poisoned on return: a slice kept without a lease would now read garbage.
    expect(first.every((b) => b === 0xee)).toBe(true);
  });

  it('goes quiet again after a small read and gives the buffer back', () => {
    const pool = smallPool();
    const reader = busyReader(pool);
    read(reader, Buffer.alloc(20 * KiB, 1));
    const small = read(reader, Buffer.alloc(100, 2));
    expect(isBorrowed(small)).toBe(true); // this read still went into the pooled buffer
    expect(reader.next()).toBe(pool.small);
    expect(pool.stats().freeBuffers).toBe(1);
  });

  it('copies reads out of a shared buffer once the pool is at its budget', () => {
    const pool = smallPool({ maxPooledBytes: 64 * KiB });
    const a = busyReader(pool);
    const b = busyReader(pool);
    expect(isBorrowed(read(a, Buffer.alloc(20 * KiB, 1)))).toBe(true);
    const copied = read(b, Buffer.alloc(20 * KiB, 2));
    expect(isBorrowed(copied)).toBe(false);
    expect(copied.every((x) => x === 2)).toBe(true);
    expect(pool.stats()).toMatchObject({ liveBytes: 64 * KiB, overBudgetReads: 1 });
  });

  it("takes back a closed socket's buffer and never hands it another", () => {
    const pool = smallPool();
    const reader = busyReader(pool);
    read(reader, Buffer.alloc(20 * KiB, 1));
    reader.close();
    expect(pool.stats().freeBuffers).toBe(1);
    expect(reader.next()).toBe(pool.small);
  });

  it('needs no lease for an ordinary buffer', () => {
    expect(leaseReadBuffer(Buffer.from('x'))).toBeUndefined();
    expect(isBorrowed(Buffer.alloc(10))).toBe(false);
  });
});
