import { createCipheriv, createHash } from 'node:crypto';

/** Size of each Buffer yielded by {@link pseudoRandomBytes}: 64 KiB. */
export const PSEUDO_RANDOM_CHUNK_SIZE = 64 * 1024;

// Encrypting zeros yields the raw keystream; allocated once because cipher.update never mutates its input.
const ZEROS = Buffer.alloc(PSEUDO_RANDOM_CHUNK_SIZE);

/**
 * Deterministic pseudo-random byte stream of exactly `length` bytes, yielded in 64 KiB chunks
 * (the last one may be shorter).
 *
 * The bytes are the AES-128-CTR keystream with key = the first 16 bytes of SHA-256 of the seed
 * written in decimal (UTF-8) and an all-zero IV. AES-CTR was chosen because it runs at several
 * GB/s through OpenSSL, so serving 10 GiB is limited by the network rather than by generation, and
 * any client in any language can reproduce the content from (seed, length) alone.
 *
 * @param seed non-negative safe integer selecting the stream
 * @param length number of bytes to produce (non-negative safe integer)
 */
export function* pseudoRandomBytes(seed: number, length: number): Generator<Buffer, void, undefined> {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`length must be a non-negative integer, got ${length}`);
  }
  const key = createHash('sha256').update(String(seed)).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  let remaining = length;
  while (remaining > 0) {
    const size = Math.min(remaining, PSEUDO_RANDOM_CHUNK_SIZE);
    remaining -= size;
    yield cipher.update(size === PSEUDO_RANDOM_CHUNK_SIZE ? ZEROS : ZEROS.subarray(0, size));
  }
}
