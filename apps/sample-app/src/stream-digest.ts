import { createHash } from 'node:crypto';

/** Size and SHA-256 of a byte stream. */
export interface StreamDigest {
  /** Number of bytes read. */
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the bytes read. */
  readonly sha256: string;
}

/**
 * Consumes `stream` to its end, hashing and counting as chunks arrive, so memory use stays
 * constant whatever the stream's size.
 */
export async function digestStream(stream: AsyncIterable<Buffer | string>): Promise<StreamDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
