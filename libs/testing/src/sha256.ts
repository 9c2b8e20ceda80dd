import { createCipheriv, createHash } from 'node:crypto';

/** SHA-256 of `data`, hex. */
export function sha256Hex(data: string | Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * SHA-256 of what the sample app's `GET /bytes/:n?seed=` sends, computed here independently from
 * its documented definition: the AES-128-CTR keystream, key = first 16 bytes of SHA-256 of the
 * seed in decimal, IV all zeros.
 */
export function pseudoRandomSha256(seed: number, length: number): string {
  const key = createHash('sha256').update(String(seed)).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  const hash = createHash('sha256');
  for (let left = length; left > 0;) {
    const n = Math.min(left, zeros.length);
    hash.update(cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n)));
    left -= n;
  }
  return hash.digest('hex');
}
