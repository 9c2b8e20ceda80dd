import type { Transport, TransportHandlers } from '../transport.ts';

/** Options of {@link createTransportPair}. */
export interface PairOptions {
  /** Bytes in flight one way before `write` returns false; default 1 MiB. */
  readonly highWaterMark?: number;
}

/** One end of an in-memory transport pair, with test hooks. */
export interface TestTransport extends Transport {
  /** Stops delivering to the peer (a dead link: nothing arrives, nothing errors). */
  blackhole(): void;
  /** Closes both ends as if the connection dropped (with an error). */
  drop(): void;
}

/**
 * Two connected in-memory transports. Delivery is asynchronous (like a socket) and order is
 * kept; bytes written but not yet delivered count as buffered and drive backpressure.
 */
export function createTransportPair(options: PairOptions = {}): [TestTransport, TestTransport] {
  const hwm = options.highWaterMark ?? 1024 * 1024;
  const a = new End(hwm);
  const b = new End(hwm);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class End implements TestTransport {
  peer!: End;
  handlers: TransportHandlers | undefined;
  pending: Buffer[] = [];
  buffered = 0;
  scheduled = false;
  needDrain = false;
  dead = false;
  closed = false;
  /** This end stopped reading: what the peer writes stays pending on the peer's side. */
  readPaused = false;

  constructor(private readonly hwm: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  bind(h: TransportHandlers): void {
    this.handlers = h;
  }

  write(chunks: readonly Buffer[], written?: () => void): boolean {
    if (this.closed) {
      written?.();
      return false;
    }
    for (const c of chunks) {
      // Copy: the sender may reuse its buffers, a real socket would have copied too.
      this.pending.push(Buffer.from(c));
      this.buffered += c.length;
    }
    written?.();
    if (!this.scheduled && !this.dead) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
    if (this.buffered >= this.hwm) this.needDrain = true;
    return !this.needDrain;
  }

  pause(): void {
    this.readPaused = true;
  }

  resume(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.peer.schedule();
  }

  /** Delivers pending bytes on a later turn, as a socket would. */
  schedule(): void {
    if (this.scheduled || this.dead || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    if (this.closed || this.dead || this.peer.readPaused) return;
    const chunks = this.pending;
    this.pending = [];
    this.buffered = 0;
    for (let i = 0; i < chunks.length; i++) {
      if (this.peer.closed) break;
      if (this.peer.readPaused) {
        // The reader stopped mid-way: the rest waits, still counted as buffered here.
        this.pending = chunks.slice(i);
        for (const c of this.pending) this.buffered += c.length;
        return;
      }
      this.peer.handlers?.data(chunks[i]);
    }
    if (this.needDrain) {
      this.needDrain = false;
      this.handlers?.drain();
    }
  }

  close(): void {
    // Like a socket's end(): what was written before the close still arrives, then both ends close.
    if (this.closed) return;
    const pending = this.pending;
    this.pending = [];
    this.buffered = 0;
    this.closed = true;
    setImmediate(() => {
      for (const c of pending) {
        if (this.peer.closed) break;
        this.peer.handlers?.data(c);
      }
      this.closed = false;
      this.shut(undefined);
      this.peer.shut(undefined);
    });
  }

  drop(): void {
    const err = new Error('connection dropped');
    this.shut(err);
    this.peer.shut(err);
  }

  blackhole(): void {
    this.dead = true;
    this.peer.dead = true;
  }

  private shut(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.handlers?.close(err));
  }
}
