import type { Clock } from './clock.ts';
import type { SessionLimits } from './limits.ts';
import { leaseReadBuffer } from './borrowed.ts';
import type { Transport } from './transport.ts';

/** Payloads below this size are copied into the batch buffer; larger ones go out as their own chunk, bytes. */
export const COPY_THRESHOLD_BYTES = 16 * 1024;

function endLeases(leases: ReadonlyArray<() => void>): void {
  for (const release of leases) release();
}

/**
 * A session's outgoing frames, batched into as few transport writes as possible: small frames
 * are joined into one buffer, large payloads go out as their own chunk (not copied), and one
 * flush per event-loop turn writes everything queued in it. Tracks the transport's backpressure.
 */
export class FrameWriter {
  /** Transport bytes sent. */
  bytesOut = 0;

  private queue: Buffer[] = [];
  private queuedSmall: Buffer[] = [];
  private queuedSmallBytes = 0;
  /** Leases on borrowed read buffers queued as large payloads, ended once the transport wrote them. */
  private queuedLeases: Array<() => void> = [];
  private flushScheduled = false;
  private congested = false;
  private writableWaiters: Array<() => void> = [];

  /**
   * @param transport The transport the frames go out on.
   * @param limits transportHighWaterMark: transport bytes buffered before writers are told to wait (see {@link whenWritable}).
   * @param clock Schedules the batched flush.
   * @param isOpen False once the session closed: nothing is written any more.
   */
  constructor(
    private readonly transport: Transport,
    private readonly limits: Pick<SessionLimits, 'transportHighWaterMark'>,
    private readonly clock: Clock,
    private readonly isOpen: () => boolean,
  ) {}

  /** Bytes the transport holds unwritten plus the small frames not yet flushed. */
  get pendingBytes(): number {
    return this.transport.bufferedBytes + this.queuedSmallBytes;
  }

  /** Bytes handed on by the transport (to the OS) so far: it grows only while the peer reads. */
  get delivered(): number {
    return this.bytesOut - this.transport.bufferedBytes;
  }

  /** True while the transport said it is full and holds more than the high-water mark. */
  get isCongested(): boolean {
    return this.congested;
  }

  /** True when the transport holds no more than the high-water mark. */
  get belowMark(): boolean {
    return this.transport.bufferedBytes <= this.limits.transportHighWaterMark;
  }

  /** Queues an encoded frame (or frame header) for the next flush. */
  enqueueSmall(buf: Buffer): void {
    this.queuedSmall.push(buf);
    this.queuedSmallBytes += buf.length;
    this.scheduleFlush();
  }

  /** Queues a large payload as its own chunk, after what is queued so far; a borrowed read buffer is leased until written. */
  enqueueLarge(buf: Buffer): void {
    this.sealSmall();
    const release = leaseReadBuffer(buf);
    if (release) this.queuedLeases.push(release);
    this.queue.push(buf);
    this.scheduleFlush();
  }

  /** Writes everything queued now, in one transport write. */
  flush(): void {
    this.flushScheduled = false;
    if (!this.isOpen()) return;
    this.sealSmall();
    if (this.queue.length === 0) return;
    const chunks = this.queue;
    this.queue = [];
    for (const c of chunks) this.bytesOut += c.length;
    const leases = this.queuedLeases;
    this.queuedLeases = [];
    const transport = this.transport;
    const ok = transport.write(chunks, leases.length > 0 ? () => endLeases(leases) : undefined);
    // Pause only when the transport said it is full (only then does it promise a `drain`) AND
    // more than transportHighWaterMark is queued: a socket's own mark (16 KiB) would stall every stream
    // once per flush; ours keeps the pipe full while still bounding memory.
    if (!ok && transport.bufferedBytes >= this.limits.transportHighWaterMark) this.congested = true;
  }

  /** Calls `cb` now if the transport can take more (or the session closed), else once it drains. */
  whenWritable(cb: () => void): void {
    if (!this.congested || !this.isOpen()) cb();
    else this.writableWaiters.push(cb);
  }

  /** The transport drained below the mark: writers waiting in {@link whenWritable} go on. */
  release(): void {
    this.congested = false;
    this.runWaiters();
  }

  /** The session closed: waiting writers go on (and fail), what was queued is never sent and its leases end. */
  discard(): void {
    this.runWaiters();
    this.queue = [];
    endLeases(this.queuedLeases.splice(0));
  }

  private runWaiters(): void {
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }

  /** Joins the small frames queued so far into one chunk, keeping order with large payloads. */
  private sealSmall(): void {
    if (this.queuedSmall.length === 0) return;
    this.queue.push(this.queuedSmall.length === 1 ? this.queuedSmall[0] : Buffer.concat(this.queuedSmall, this.queuedSmallBytes));
    this.queuedSmall = [];
    this.queuedSmallBytes = 0;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate batches every frame produced in one event-loop turn (many requests' worth)
    // into one transport write.
    this.clock.defer(() => this.flush());
  }
}
