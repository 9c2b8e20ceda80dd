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
export function isBorrowed(chunk: Uint8Array): boolean {
  return lenders.has(chunk.buffer);
}

/**
 * Keeps the pooled read buffer under `chunk` from being reused until the returned function is
 * called (once; later calls do nothing). Returns undefined for ordinary buffers, which need no
 * lease, so `socket.write(chunk, leaseReadBuffer(chunk))` costs nothing extra for them.
 */
export function leaseReadBuffer(chunk: Uint8Array): (() => void) | undefined {
  const lender = lenders.get(chunk.buffer);
  if (!lender) return undefined;
  lender.retain();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    lender.release();
  };
}
