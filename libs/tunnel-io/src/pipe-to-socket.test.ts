import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type HttpRequestHead, readNow, Session, type TunnelStream } from '@tunnel/tunnel-protocol';
import { waitFor } from '@tunnel/testing';
import { LEASE_WHILE_UNWRITTEN_BELOW, pipeToSocket } from './pipe-to-socket.ts';
import { ReadBufferPool } from './read-pool.ts';
import { detachedStream, createTransportPair } from '@tunnel/tunnel-protocol/testing';
import { systemClock } from './system-clock.ts';

/**
 * A socket that records writes and cork depth, reports full after `capacity` writes until
 * `drain()`, and holds write callbacks until `flush()` (as a socket does until the kernel took
 * the bytes).
 */
class FakeSocket extends EventEmitter {
  writes: string[] = [];
  batches: string[][] = [];
  callbacks: Array<() => void> = [];
  private depth = 0;
  private batch: string[] = [];
  private sinceDrain = 0;
  ended = false;
  destroyed = false;
  /** Unwritten bytes, as the test wants them seen. */
  writableLength = 0;
  constructor(private capacity = Infinity) {
    super();
  }
  get writableNeedDrain(): boolean {
    return this.sinceDrain >= this.capacity;
  }
  cork(): void {
    this.depth++;
  }
  uncork(): void {
    if (this.depth > 0 && --this.depth === 0 && this.batch.length > 0) {
      this.batches.push(this.batch);
      this.batch = [];
    }
  }
  write(chunk: Buffer, cb?: () => void): boolean {
    this.writes.push(chunk.toString());
    if (cb) this.callbacks.push(cb);
    if (this.depth > 0) this.batch.push(chunk.toString());
    else this.batches.push([chunk.toString()]);
    this.sinceDrain++;
    return !this.writableNeedDrain;
  }
  end(): void {
    this.ended = true;
  }
  drain(): void {
    this.sinceDrain = 0;
    this.emit('drain');
  }
  flush(): void {
    for (const cb of this.callbacks.splice(0)) cb();
  }
}

const head: HttpRequestHead = {
  kind: 'http',
  method: 'GET',
  target: '/',
  authority: 'a',
  remoteAddress: '127.0.0.1',
  remotePort: 1,
};

function pair(): { opener: Session; accepted: Promise<TunnelStream> } {
  const [a, b] = createTransportPair();
  let resolve!: (s: TunnelStream) => void;
  const accepted = new Promise<TunnelStream>((r) => (resolve = r));
  const opener = new Session({ clock: systemClock, role: 'server', transport: a, limits: { pingIntervalMs: 0 } });
  new Session({ clock: systemClock, role: 'client', transport: b, limits: { pingIntervalMs: 0 }, onStream: resolve });
  return { opener, accepted };
}

describe('pipeToSocket', () => {
  it('writes what arrives in one tick as one corked batch, and ends the socket on FIN', async () => {
    const { opener, accepted } = pair();
    const out = opener.openStream(head);
    const socket = new FakeSocket();
    pipeToSocket(await accepted, socket);
    out.write('a');
    out.write('b');
    out.end('c');
    await waitFor(() => socket.ended, { what: 'the socket to end' });
    expect(socket.writes).toEqual(['a', 'b', 'c']);
    expect(socket.batches).toEqual([['a', 'b', 'c']]);
    expect(socket.ended).toBe(true);
  });

  it("withholds the stream's credit while the socket is full and releases it on drain", async () => {
    const window = 16 * 1024;
    const [a, b] = createTransportPair();
    let accept!: (s: TunnelStream) => void;
    const accepted = new Promise<TunnelStream>((r) => (accept = r));
    const opener = new Session({ clock: systemClock, role: 'server', transport: a, limits: { pingIntervalMs: 0, streamWindow: window } });
    new Session({
      clock: systemClock,
      role: 'client',
      transport: b,
      limits: { pingIntervalMs: 0, streamWindow: window },
      onStream: accept,
    });
    const out = opener.openStream(head);
    const socket = new FakeSocket(1);
    pipeToSocket(await accepted, socket);
    const body = Buffer.alloc(4 * window, 'x');
    out.end(body);
    // The first window (the credit the opener starts with) arrives whatever the socket says.
    await waitFor(() => socket.writes.join('').length >= window, { what: 'the first window' });
    const before = socket.writes.join('').length;
    // Full after the first write: no credit went back, so at most one window arrived.
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(window);
    // Each drain returns credit and lets the next window in, until the FIN.
    await waitFor(() => socket.ended || void socket.drain(), { intervalMs: 5, what: 'the whole body and the FIN' });
    expect(socket.writes.join('')).toBe(body.toString());
  });

  it('leases a borrowed chunk until the socket has written it, and copies once the socket holds 1 MiB unwritten', () => {
    const pool = new ReadBufferPool({ bufferBytes: 256 * 1024, minReadBytes: 64 * 1024, smallBytes: 1 });
    const reader = pool.reader();
    reader.take(1, reader.next());
    const deliver = (stream: TunnelStream, text: string): Buffer => {
      const into = reader.next();
      const n = into.write(text);
      // The test follows the view itself (is it leased, copied?): read as a Buffer on purpose.
      const view = readNow(reader.take(n, into));
      stream.handleData(view, false);
      return view;
    };
    const stream = detachedStream();
    const socket = new FakeSocket();
    pipeToSocket(stream, socket);
    const first = deliver(stream, 'one');
    // Leased until written: the next read goes after it, not over it.
    const second = deliver(stream, 'two');
    expect(second.byteOffset).toBe(first.byteOffset + 3);
    expect(socket.callbacks).toHaveLength(2);
    // Stalled: the third is copied, with nothing to release.
    socket.writableLength = LEASE_WHILE_UNWRITTEN_BELOW;
    deliver(stream, 'three');
    socket.writableLength = 0;
    expect(socket.callbacks).toHaveLength(2);
    expect(socket.writes).toEqual(['one', 'two', 'three']);
    socket.flush();
    // Both leases ended: the buffer is read into from its start again.
    expect(deliver(stream, 'four').byteOffset).toBe(first.byteOffset);
  });
});
