import { isBorrowed, lendMemory } from '../borrowed.ts';
import { TunnelStream, type StreamHost } from '../stream.ts';

/** Most bytes of one chunk {@link feedBorrowed} hands on, bytes. */
const FEED_BORROWED_MAX_BYTES = 128 * 1024;

/**
 * Hands each chunk to `push` as a borrowed view of lent memory, as a socket on pooled reads
 * would (the read pool lends its buffers the same way), and overwrites the view with 0xEE as
 * soon as `push` returns (as the next read would). Whatever a consumer kept without copying then
 * reads as garbage. Chunks must be at most 128 KiB.
 */
export function feedBorrowed(chunks: readonly Buffer[], push: (view: Buffer) => void): void {
  const memory = Buffer.allocUnsafeSlow(FEED_BORROWED_MAX_BYTES);
  // Leases are counted by nobody: the view is overwritten after every push, leased or not.
  lendMemory(memory.buffer, { retain: () => {}, release: () => {} });
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (chunk.length > memory.length) throw new Error(`feedBorrowed: a chunk of ${chunk.length} bytes is over ${memory.length}`);
    chunk.copy(memory);
    const view = memory.subarray(0, chunk.length);
    if (!isBorrowed(view)) throw new Error('feedBorrowed: the view is not borrowed');
    push(view);
    view.fill(0xee);
  }
}

/** `buf` cut at the given points (taken modulo its length, deduplicated), for random-split tests. */
export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** A TCP stream whose session discards everything it sends, for feeding `handleData` by hand. */
export function detachedStream(): TunnelStream {
  const host: StreamHost = {
    maxFrameBytes: 64 * 1024,
    sendData: () => {},
    sendReply: () => {},
    sendWindow: () => {},
    sendReset: () => {},
    whenWritable: (cb) => cb(),
    streamClosed: () => {},
  };
  return new TunnelStream(
    host,
    1,
    { kind: 'tcp', port: 1, remoteAddress: '', remotePort: 0, localAddress: '' },
    { sendWindow: 1 << 20, recvWindow: 1 << 20 },
  );
}
