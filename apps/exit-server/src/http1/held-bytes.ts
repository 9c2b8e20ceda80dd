import { HttpError, ownBytes, type Borrowed } from '@tunnel/tunnel-protocol';

/**
 * Bytes a paused reader keeps for later (what follows an upgrade request until the answer says
 * 101 or not, a request waiting for the previous response), bounded: past `max` bytes `add`
 * throws, so a client that keeps sending while it may not be forwarded costs at most `max`
 * bytes instead of everything it sends. Chunks are kept as a list and joined once, on `take`.
 */
export class HeldBytes {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /**
   * @param max Most bytes held, bytes.
   * @param over Builds the error thrown past `max`.
   */
  constructor(
    private readonly max: number,
    private readonly over: (max: number) => HttpError,
  ) {}

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  /** True when nothing is held. */
  get empty(): boolean {
    return this.bytes === 0;
  }

  /** Keeps `chunk` (copied when it is a borrowed read buffer); throws past the bound. */
  add(chunk: Borrowed): void {
    if (chunk.length === 0) return;
    if (this.bytes + chunk.length > this.max) throw this.over(this.max);
    this.chunks.push(ownBytes(chunk));
    this.bytes += chunk.length;
  }

  /** Everything held, in order, as one buffer (undefined when empty); the holder is empty afterwards. */
  take(): Buffer | undefined {
    if (this.bytes === 0) return undefined;
    const out = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    return out;
  }
}

/** The error past a public connection's held-bytes bound: 413 when it can answer the request in flight, else the connection is cut. */
export function heldBytesError(max: number): HttpError {
  return new HttpError('TUN_ERR_HELD_BYTES', 413, `more than ${max} bytes sent while nothing could be forwarded`);
}
