import { leaseReadBuffer } from '@tunnel/tunnel-protocol';
import type { RawSocketLike, RawSocketWithMark } from './raw-websocket.ts';

/**
 * Most bytes one write hands to TLS, bytes. Node's TLS turns each write into 16 KiB records in
 * one pass, so bigger writes cost no more per byte; 1 MiB keeps a download's batch in one write.
 */
export const TLS_WRITE_SLAB_BYTES = 1024 * 1024;
/** Writes up to this size are copied into a fresh small buffer instead of a pooled slab, bytes. */
const SMALL_WRITE_BYTES = 64 * 1024;
/** Free slabs kept for reuse across all coalesced sockets, count; more go to the garbage collector. */
const MAX_FREE_SLABS = 4;

const freeSlabs: Buffer[] = [];

function takeSlab(): Buffer {
  return freeSlabs.pop() ?? Buffer.allocUnsafeSlow(TLS_WRITE_SLAB_BYTES);
}

function returnSlab(slab: Buffer): void {
  if (freeSlabs.length < MAX_FREE_SLABS) freeSlabs.push(slab);
}

/** True for a TLS socket (node's `tls.TLSSocket` sets `encrypted`). */
export function isTlsSocket(socket: object): boolean {
  return (socket as { encrypted?: unknown }).encrypted === true;
}

/** The most node's TLS hands over per 'data' event: one record's plaintext, bytes. */
const TLS_RECORD_BYTES = 16 * 1024;

/**
 * Node's TLS emits one 'data' event per 16 KiB record, and runs the tick queue after each, so
 * whatever a record's bytes are written to (tick-corked sockets) went out in one syscall per
 * record. Full records are held until the end of the event-loop turn and handed on together,
 * so one TCP read's worth of records is handled in one pass. A short record (the end of what
 * the peer wrote: a small request) is handed on at once, with any held before it.
 */
function batchRecords(listener: (chunk: Buffer) => void): { onData: (chunk: Buffer) => void; flush: () => void } {
  let held: Buffer[] = [];
  /** Leases on the pooled read buffers under held chunks (borrowed views must not be overwritten meanwhile). */
  let leases: Array<(() => void) | undefined> = [];
  let scheduled = false;
  const run = () => {
    scheduled = false;
    const batch = held;
    const leased = leases;
    held = [];
    leases = [];
    for (let i = 0; i < batch.length; i++) {
      listener(batch[i]);
      leased[i]?.();
    }
  };
  const onData = (chunk: Buffer) => {
    if (chunk.length >= TLS_RECORD_BYTES) {
      held.push(chunk);
      leases.push(leaseReadBuffer(chunk));
      if (!scheduled) {
        scheduled = true;
        setImmediate(run);
      }
      return;
    }
    if (held.length === 0) return listener(chunk);
    held.push(chunk);
    leases.push(undefined);
    run();
  };
  return { onData, flush: run };
}

interface Pending {
  chunk: Buffer;
  cb: ((err?: Error | null) => void) | undefined;
}

/**
 * Wraps a TLS socket so that node's TLS costs per byte, not per record. Reads: full records are
 * handed on once per event-loop turn (see batchRecords), and before 'end', 'close' or 'error'.
 * Writes: every write reaches node's TLS as ONE buffer, with at most one write in flight. Node's TLS copies a write of several buffers (a corked batch, or chunks that
 * queued behind a write in flight) into a freshly allocated buffer before encrypting it: for
 * batches of a megabyte that allocation faulted in new pages on every write and cost the
 * encrypting side ~4 ms per MB (perf: memmove and page faults in node::StreamBase::Write). Here
 * the chunks are copied once into warm, reused memory instead, and node encrypts straight from it.
 *
 * Write callbacks mean "no longer referenced" (the bytes were copied), not "handed to the OS":
 * buffers lent to a write are free sooner. `writableLength` counts the bytes not yet handed to
 * TLS plus what the socket holds; 'drain' fires once all of it went out after a write returned false.
 */
export function coalesceTls(socket: RawSocketWithMark): RawSocketLike {
  const writer = new CoalescingWriter(socket);
  /** Hand on the records held by each 'data' listener. */
  const heldRecords: Array<() => void> = [];
  return {
    write: (chunk, cb) => writer.write(chunk, cb),
    cork: () => writer.cork(),
    uncork: () => writer.uncork(),
    end: () => writer.end(),
    destroy: () => writer.destroy(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    on(event: string, listener: (arg: never) => void) {
      if (event === 'drain') writer.drainListeners.push(listener as () => void);
      else if (event === 'data') {
        const batched = batchRecords(listener as (chunk: Buffer) => void);
        heldRecords.push(batched.flush);
        socket.on('data', batched.onData);
      } else {
        // What was read before the end comes before it.
        socket.on(event as 'close', (arg?: unknown) => {
          for (const flush of heldRecords) flush();
          (listener as (a?: unknown) => void)(arg);
        });
      }
      return this;
    },
    get writableLength() {
      return writer.pendingBytes + socket.writableLength;
    },
    get writableNeedDrain() {
      return writer.needDrain;
    },
    get destroyed() {
      return socket.destroyed;
    },
  };
}

/** The write side of {@link coalesceTls}: queues chunks and hands them to TLS one slab at a time. */
class CoalescingWriter {
  private readonly pending: Pending[] = [];
  /** Bytes queued here, not yet handed to TLS. */
  pendingBytes = 0;
  private corked = 0;
  private inFlight = false;
  /** A write returned false: 'drain' is due once everything went out. */
  needDrain = false;
  readonly drainListeners: Array<() => void> = [];

  constructor(private readonly socket: RawSocketWithMark) {
    // Chunks still pending when the connection ends are dropped: their callbacks must still run.
    socket.on('close', () => this.dropPending(new Error('socket closed')));
  }

  write(chunk: Buffer, cb: ((err?: Error | null) => void) | undefined): boolean {
    if (this.socket.destroyed) {
      cb?.(new Error('socket destroyed'));
      return false;
    }
    this.pending.push({ chunk, cb });
    this.pendingBytes += chunk.length;
    this.flush();
    if (this.pendingBytes + this.socket.writableLength >= this.socket.writableHighWaterMark) this.needDrain = true;
    return !this.needDrain;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.flush();
  }

  end(): void {
    // What is still pending goes out before the end, even if that queues it behind the write
    // in flight (node then copies it once more: only at close).
    this.corked = 0;
    while (this.pendingBytes > 0 && !this.socket.destroyed) {
      this.inFlight = false;
      this.flush();
    }
    this.socket.end();
  }

  destroy(): void {
    this.dropPending(new Error('socket destroyed'));
    this.socket.destroy();
  }

  private dropPending(err: Error): void {
    const dropped = this.pending.splice(0);
    this.pendingBytes = 0;
    for (const p of dropped) p.cb?.(err);
  }

  /** Copies up to one slab of pending chunks into one buffer and writes it. */
  private flush(): void {
    const { pending, socket } = this;
    if (this.inFlight || this.corked > 0 || pending.length === 0 || socket.destroyed) return;
    const total = Math.min(this.pendingBytes, TLS_WRITE_SLAB_BYTES);
    const slab = total > SMALL_WRITE_BYTES ? takeSlab() : undefined;
    const out = slab ? slab.subarray(0, total) : Buffer.allocUnsafe(total);
    let off = 0;
    const copied: Pending[] = [];
    // Empty chunks are taken too (their callbacks still run), in order.
    while (pending.length > 0 && (off < total || pending[0].chunk.length === 0)) {
      const head = pending[0];
      const n = Math.min(head.chunk.length, total - off);
      head.chunk.copy(out, off, 0, n);
      off += n;
      if (n === head.chunk.length) copied.push(pending.shift() as Pending);
      else head.chunk = head.chunk.subarray(n);
    }
    this.pendingBytes -= total;
    if (total > 0) {
      this.inFlight = true;
      socket.write(out, () => this.written(slab));
    }
    for (const p of copied) p.cb?.();
  }

  /** A slab's write completed: the next one may go, and 'drain' is due once nothing is left. */
  private written(slab: Buffer | undefined): void {
    this.inFlight = false;
    if (slab) returnSlab(slab);
    if (this.socket.destroyed) return this.dropPending(new Error('socket destroyed'));
    this.flush();
    if (!this.inFlight && this.pendingBytes === 0 && this.needDrain) {
      this.needDrain = false;
      for (const l of this.drainListeners) l();
    }
  }
}
