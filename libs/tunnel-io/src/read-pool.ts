import { lend, lendMemory, unlendMemory, type Borrowed, type Lender } from '@tunnel/tunnel-protocol';

/** Settings of a {@link ReadBufferPool}. All sizes in bytes. */
export interface ReadBufferPoolOptions {
  /** Size of one pooled read buffer, bytes. Default 1 MiB. */
  readonly bufferBytes?: number;
  /** Least room a read is given in a pooled buffer, bytes; with less left, the socket moves to another buffer. Default 64 KiB. */
  readonly minReadBytes?: number;
  /** Most bytes of pooled buffers alive at once (in use, leased or free), bytes; beyond it reads are copied out of a shared buffer. Default 64 MiB. */
  readonly maxPooledBytes?: number;
  /** Size of the one buffer that every quiet socket reads into and is copied out of, bytes. Default 16 KiB. */
  readonly smallBytes?: number;
  /**
   * Bytes of free buffers kept for reuse; more are left to the garbage collector. Default
   * 16 MiB: a download keeps megabytes leased at once while the tunnel's queue drains, and with
   * 4 MiB the edge client dropped and re-allocated buffers (fresh pages) all the time.
   */
  readonly maxFreeBytes?: number;
  /** Test aid: fill each buffer with 0xEE as it returns to the pool, so a slice kept without a lease reads garbage. Default false. */
  readonly poison?: boolean;
}

/** Counters of a {@link ReadBufferPool}, for tests and status. */
export interface ReadBufferPoolStats {
  /** Bytes of pooled buffers alive (in use, leased or free). */
  readonly liveBytes: number;
  /** Pooled buffers waiting for reuse. */
  readonly freeBuffers: number;
  /** Buffers handed out since the start (new or reused). */
  readonly acquired: number;
  /** Reads copied because the pool was at `maxPooledBytes`. */
  readonly overBudgetReads: number;
}

/** The apps' read-buffer settings (`--read-buffer`, `--read-pool-max`, `--poison-read-buffers`). */
export interface ReadBufferSettings {
  /** Size of one pooled read buffer, bytes; 0 turns pooled reads off. */
  readonly readBuffer: number;
  /** Most bytes of pooled buffers alive at once, bytes. */
  readonly readPoolMax: number;
  /** Test aid: overwrite buffers as they return to the pool. */
  readonly poisonReadBuffers: boolean;
}

/** The pool an app's settings ask for, or undefined when pooled reads are off (`readBuffer` 0). */
export function readPoolFor(settings: ReadBufferSettings): ReadBufferPool | undefined {
  if (settings.readBuffer === 0) return undefined;
  return new ReadBufferPool({ bufferBytes: settings.readBuffer, maxPooledBytes: settings.readPoolMax, poison: settings.poisonReadBuffers });
}

/**
 * Node's `onread` option for a socket reading through `reader`: every read is handed to `emit`
 * (the socket's 'data' event) as `reader.take()` makes it, borrowed or copied.
 */
export function onreadThrough(
  reader: PooledReader,
  emit: (chunk: Borrowed) => void,
): { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean } {
  return {
    buffer: () => reader.next(),
    callback: (n, buf) => {
      emit(reader.take(n, buf as Buffer));
      return true;
    },
  };
}

/** One pooled buffer and who holds it; lent out through the core's registry of borrowed memory. */
class Arena implements Lender {
  /** Leases taken on slices of this buffer and not yet released. */
  refs = 0;
  /** True while a socket reads into it. */
  bound = false;

  constructor(
    readonly buf: Buffer,
    readonly pool: ReadBufferPool,
  ) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    this.pool.release(this);
  }
}

/**
 * The read side of one socket over a {@link ReadBufferPool}, shaped for node's `onread` option:
 * `next()` gives the buffer the next read goes into, `take()` turns what a read put there into
 * the chunk to hand on.
 */
export interface PooledReader {
  /** The buffer the next read fills (called again after every read). */
  next(): Buffer;
  /**
   * The `n` bytes the last read put into `buf` (what `next()` returned): a borrowed view of a
   * pooled buffer, or an owned copy while the socket is quiet or the pool is at its budget.
   */
  take(n: number, buf: Buffer): Borrowed;
  /** The socket is gone: its buffer goes back to the pool once every lease on it ends. */
  close(): void;
}

/**
 * Reusable read buffers for busy sockets, with explicit ownership. A socket that moves bulk data
 * reads into a buffer of its own and hands on views of it, so received bytes are never copied and
 * the memory stays warm. A consumer that keeps a view beyond the synchronous delivery takes a
 * lease ({@link leaseReadBuffer}); a buffer is read into again only where no lease remains, and
 * goes back to the pool once its socket left it and its last lease ended.
 *
 * Quiet sockets (every read smaller than `smallBytes`) all read into one shared buffer and get
 * copies, so 10,000 idle connections hold no big buffer each. The pool's memory is bounded by
 * `maxPooledBytes`; past it, reads are copied, as with node's own read path.
 */
export class ReadBufferPool {
  private readonly bufferBytes: number;
  /** @internal Least room a read gets in a pooled buffer, bytes. */
  readonly minRead: number;
  private readonly maxPooledBytes: number;
  private readonly maxFree: number;
  private readonly poison: boolean;
  /** Shared by every quiet socket: each read is copied out before the next can happen. */
  readonly small: Buffer;
  /** Shared by busy sockets while the pool is at its budget; copied out like `small`. */
  private scratch: Buffer | undefined;
  private readonly free: Arena[] = [];
  private liveBytes = 0;
  private acquired = 0;
  private overBudgetReads = 0;

  constructor(opts: ReadBufferPoolOptions = {}) {
    this.bufferBytes = opts.bufferBytes ?? 1024 * 1024;
    this.minRead = Math.min(opts.minReadBytes ?? 64 * 1024, this.bufferBytes);
    this.maxPooledBytes = opts.maxPooledBytes ?? 64 * 1024 * 1024;
    this.maxFree = Math.max(1, Math.floor((opts.maxFreeBytes ?? 16 * 1024 * 1024) / this.bufferBytes));
    this.poison = opts.poison ?? false;
    this.small = Buffer.allocUnsafeSlow(Math.min(opts.smallBytes ?? 16 * 1024, this.bufferBytes));
  }

  /** Counters since the start. */
  stats(): ReadBufferPoolStats {
    return { liveBytes: this.liveBytes, freeBuffers: this.free.length, acquired: this.acquired, overBudgetReads: this.overBudgetReads };
  }

  /** A reader for one socket; it starts quiet. */
  reader(): PooledReader {
    return new SocketReader(this);
  }

  /** @internal A buffer for a busy socket, or undefined at the budget. */
  acquire(): Arena | undefined {
    let arena = this.free.pop();
    if (!arena) {
      if (this.liveBytes + this.bufferBytes > this.maxPooledBytes) return undefined;
      arena = new Arena(Buffer.allocUnsafeSlow(this.bufferBytes), this);
      lendMemory(arena.buf.buffer, arena);
      this.liveBytes += this.bufferBytes;
    }
    arena.bound = true;
    this.acquired++;
    return arena;
  }

  /** @internal The shared buffer busy sockets read into at the budget. */
  overBudget(): Buffer {
    this.overBudgetReads++;
    this.scratch ??= Buffer.allocUnsafeSlow(this.bufferBytes);
    return this.scratch;
  }

  /** @internal A socket stopped reading into `arena`. */
  unbind(arena: Arena): void {
    arena.bound = false;
    if (arena.refs === 0) this.recycle(arena);
  }

  /** @internal A lease on `arena` ended. */
  release(arena: Arena): void {
    arena.refs--;
    if (arena.refs === 0 && !arena.bound) this.recycle(arena);
  }

  private recycle(arena: Arena): void {
    if (this.poison) arena.buf.fill(0xee);
    if (this.free.length < this.maxFree) {
      this.free.push(arena);
      return;
    }
    unlendMemory(arena.buf.buffer);
    this.liveBytes -= this.bufferBytes;
  }
}

class SocketReader implements PooledReader {
  private busy = false;
  private closed = false;
  private arena: Arena | undefined;
  /** Where the next read goes in `arena`, bytes. */
  private off = 0;

  constructor(private readonly pool: ReadBufferPool) {}

  next(): Buffer {
    let arena = this.arena;
    if (!this.busy || this.closed) {
      if (arena) this.leave(arena);
      return this.pool.small;
    }
    if (arena && arena.refs === 0) {
      // Nobody kept anything: read into the same warm memory again.
      this.off = 0;
    } else if (arena && arena.buf.length - this.off < this.pool.minRead) {
      this.leave(arena);
      arena = undefined;
    }
    if (!arena) {
      arena = this.pool.acquire();
      if (!arena) return this.pool.overBudget();
      this.arena = arena;
      this.off = 0;
    }
    return arena.buf.subarray(this.off);
  }

  take(n: number, buf: Buffer): Borrowed {
    if (this.arena && buf.buffer === this.arena.buf.buffer) {
      this.off += n;
      // A read that would have fitted the shared buffer: the socket has gone quiet. The buffer
      // is left in next(), after this read's bytes were handed on.
      if (n < this.pool.small.length) this.busy = false;
      return lend(buf.subarray(0, n));
    }
    const out = Buffer.allocUnsafe(n);
    buf.copy(out, 0, 0, n);
    if (buf === this.pool.small) this.busy = n === buf.length;
    return lend(out);
  }

  close(): void {
    this.closed = true;
    if (this.arena) this.leave(this.arena);
  }

  private leave(arena: Arena): void {
    this.arena = undefined;
    this.off = 0;
    this.pool.unbind(arena);
  }
}
