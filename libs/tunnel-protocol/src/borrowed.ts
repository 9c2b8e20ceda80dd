/**
 * Who lends a piece of memory out as borrowed views (a read pool's buffer): it counts the leases
 * taken on it and reuses the memory only once none remains.
 */
export interface Lender {
  /** A lease was taken on the memory: do not reuse it until the matching {@link release}. */
  retain(): void;
  /** A lease taken with {@link retain} ended. */
  release(): void;
}

/** Every lent memory block and its lender, so any view of one is recognised from its ArrayBuffer. */
const lenders = new WeakMap<ArrayBufferLike, Lender>();

/**
 * Marks `memory` as lent by `lender`: from now on every view of it counts as borrowed
 * ({@link isBorrowed}) and {@link leaseReadBuffer} takes leases through `lender`.
 */
export function lendMemory(memory: ArrayBufferLike, lender: Lender): void {
  lenders.set(memory, lender);
}

/** Ends {@link lendMemory} for `memory` (its lender dropped it): views of it are ordinary bytes again. */
export function unlendMemory(memory: ArrayBufferLike): void {
  lenders.delete(memory);
}

/**
 * True when `chunk` is a borrowed view of a pooled read buffer: valid only during the call that
 * handed it over. Whoever keeps it longer copies it or takes a {@link leaseReadBuffer}.
 */
export function isBorrowed(chunk: Uint8Array | Borrowed): boolean {
  return lenders.has((chunk as Uint8Array).buffer);
}

/**
 * Keeps the pooled read buffer under `chunk` from being reused until the returned function is
 * called (once; later calls do nothing). Returns undefined for ordinary buffers, which need no
 * lease, so `socket.write(chunk, leaseReadBuffer(chunk))` costs nothing extra for them.
 */
export function leaseReadBuffer(chunk: Uint8Array | Borrowed): (() => void) | undefined {
  const lender = lenders.get((chunk as Uint8Array).buffer);
  if (!lender) return undefined;
  lender.retain();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    lender.release();
  };
}

declare const BORROWED: unique symbol;

/**
 * Bytes that may be a borrowed view of lent memory (a pooled read buffer, or a decoder's slice of
 * one), valid only during the call that handed them over. They read like a Buffer (index,
 * `length`, `read*`, `toString`, `copy`, `equals`, `subarray`, which stays Borrowed), and any
 * Buffer passes as one; but a Borrowed is not a Buffer or Uint8Array (it lacks `buffer`), so
 * keeping one in a field, a queue or a socket write does not compile. To keep the bytes past the
 * call: {@link ownBytes} (a copy if borrowed) or {@link leaseBytes}.
 */
export type Borrowed = Omit<Buffer, 'buffer' | 'subarray' | 'slice'> & {
  /** Marks the type; never present at run time. */
  readonly [BORROWED]?: true;
  /** A view of part of these bytes: borrowed like them. */
  subarray(start?: number, end?: number): Borrowed;
  /** Same as {@link subarray} (Buffer's `slice` is a view too). */
  slice(start?: number, end?: number): Borrowed;
};

/** What {@link leaseBytes} returns: the bytes, usable until `release` is called. */
export interface LeasedBytes {
  /** The bytes themselves; valid until `release`. */
  readonly bytes: Buffer;
  /** Ends the lease (once; later calls do nothing); undefined when the bytes were not borrowed. */
  readonly release: (() => void) | undefined;
}

/** Hands `bytes` on as {@link Borrowed}: what a read pool or a decoder does with a view it lends. */
export function lend(bytes: Buffer): Borrowed {
  return bytes as unknown as Borrowed;
}

/** Bytes to keep: a copy of `bytes` when they are borrowed, else `bytes` themselves. The one copy-if-borrowed. */
export function ownBytes(bytes: Borrowed): Buffer {
  const view = bytes as unknown as Buffer;
  return isBorrowed(view) ? Buffer.from(view) : view;
}

/** Keeps `bytes` valid (no copy) until `release`; pass `release` on to whoever ends the use, e.g. `socket.write(bytes, release)`. */
export function leaseBytes(bytes: Borrowed): LeasedBytes {
  const view = bytes as unknown as Buffer;
  return { bytes: view, release: leaseReadBuffer(view) };
}

/**
 * `bytes` as a Buffer for a use that ends before the call returns and keeps nothing (hashing,
 * decoding strings, copying out). The compiler cannot check that: prefer {@link ownBytes} or
 * {@link leaseBytes} whenever anything is kept.
 */
export function readNow(bytes: Borrowed): Buffer {
  return bytes as unknown as Buffer;
}
