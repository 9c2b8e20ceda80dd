import { ReadBufferPool, isBorrowed } from '../read-pool.ts';
import { TunnelStream, type StreamHost } from '../stream.ts';

/**
 * Hands each chunk to `push` as a borrowed view of a pooled read buffer, as a socket on pooled
 * reads would, and overwrites the view with 0xEE as soon as `push` returns (as the next read
 * would). Whatever a consumer kept without copying or leasing then reads as garbage.
 * Chunks must be at most 128 KiB.
 */
export function feedBorrowed(chunks: readonly Buffer[], push: (view: Buffer) => void): void {
  // A 1-byte quiet buffer: the first read fills it, so every read after goes to a pooled buffer.
  const pool = new ReadBufferPool({ bufferBytes: 128 * 1024, minReadBytes: 128 * 1024, smallBytes: 1 });
  const reader = pool.reader();
  reader.take(1, reader.next());
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    const into = reader.next();
    chunk.copy(into);
    const view = reader.take(chunk.length, into);
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
