import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Largest chunk {@link generatedBody} pushes, bytes. */
const BODY_CHUNK_BYTES = 256 * 1024;

/**
 * Fills `chunk` with deterministic bytes: a 32-bit LCG from `state` (little-endian words), the
 * tail that is not a whole word the low byte of its index. Returns the LCG's next state.
 */
export function fillGenerated(chunk: Buffer, state: number): number {
  let x = state;
  const n = chunk.length;
  for (let i = 0; i + 4 <= n; i += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    chunk.writeUInt32LE(x, i);
  }
  for (let i = n - (n % 4); i < n; i++) chunk[i] = i & 0xff;
  return x;
}

/** A readable of `size` deterministic bytes (from `seed`) and their sha256, computed while generating. */
export function generatedBody(size: number, seed = 7): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = size;
  let state = seed;
  const stream = new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(Math.min(left, BODY_CHUNK_BYTES));
      state = fillGenerated(chunk, state);
      hash.update(chunk);
      left -= chunk.length;
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}
