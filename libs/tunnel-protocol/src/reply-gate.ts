import type { FrameWriter } from './frame-writer.ts';
import type { SessionLimits } from './limits.ts';
import type { Logger } from './logger.ts';
import { ReplyBacklog } from './reply-backlog.ts';
import type { Transport } from './transport.ts';

/**
 * Sends the replies a peer asks for (a PING answer, a RESET for a stream it cannot have),
 * bounded by a {@link ReplyBacklog}: past maxQueuedReplies owed to a peer that does not read,
 * the transport is no longer read until it drains, and what is owed meanwhile is dropped.
 */
export class ReplyGate {
  private readonly backlog: ReplyBacklog;

  /**
   * @param limits maxQueuedReplies: most replies owed while congested before reads stop, count;
   *   transportHighWaterMark: transport bytes above which the write side counts as congested.
   * @param writer Where replies are queued.
   * @param transport Paused and resumed.
   * @param log Told when a peer is paused.
   */
  constructor(
    private readonly limits: Pick<SessionLimits, 'maxQueuedReplies' | 'transportHighWaterMark'>,
    private readonly writer: FrameWriter,
    private readonly transport: Transport,
    private readonly log: Logger,
  ) {
    this.backlog = new ReplyBacklog(limits.maxQueuedReplies);
  }

  /** Replies dropped because the peer asked for more than maxQueuedReplies without reading. */
  get dropped(): number {
    return this.backlog.dropped;
  }

  /** True while the transport is not read because replies are backed up. */
  get readsPaused(): boolean {
    return this.backlog.full;
  }

  /** Queues `frame`, or drops it while the peer is paused; pauses the peer at the bound. */
  send(frame: Buffer): void {
    const { writer, transport } = this;
    const highWaterMark = this.limits.transportHighWaterMark;
    const verdict = this.backlog.due(writer.pendingBytes >= highWaterMark);
    if (verdict === 'drop') return;
    writer.enqueueSmall(frame);
    if (verdict === 'pause') {
      this.log.warn(
        { owed: this.limits.maxQueuedReplies, buffered: transport.bufferedBytes },
        'peer asks for replies without reading them: not reading it until it catches up',
      );
      transport.pause();
      // The transport promises a drain only after a write it called full: flush now so one comes.
      writer.flush();
      if (!writer.isCongested && transport.bufferedBytes < highWaterMark) this.resumeReads();
    }
  }

  /** The write side drained: reads resume if they were paused. */
  resumeReads(): void {
    if (!this.backlog.full) return;
    this.backlog.drained();
    this.transport.resume();
  }
}
