/**
 * Counts the replies a session owes its peer for what the peer sent (PING answers, RESETs for
 * streams that do not exist or were refused) while the write side is over its high-water mark,
 * i.e. while the peer is not reading them. A peer that keeps asking without reading would
 * otherwise grow the write queue without limit; past `max` such replies the session stops
 * reading the transport until it drains, and replies owed meanwhile are dropped (a PING answer
 * or a RESET for a stream the peer already lost is safe to drop: a well-behaved peer never gets
 * near the bound).
 *
 * Only replies are counted, not stream data: data is bounded by the flow-control windows, and
 * pausing reads on a data backlog would deadlock two ends that both send bulk data.
 */
export class ReplyBacklog {
  private owed = 0;
  private over = false;
  /** Replies dropped since the start because the backlog was full. */
  dropped = 0;

  /** @param max Most replies owed while congested before reads stop, count. */
  constructor(private readonly max: number) {}

  /** True while reads should stay stopped (the bound was reached and the write side has not drained). */
  get full(): boolean {
    return this.over;
  }

  /**
   * A reply is due; `congested` says whether the write side is over its mark. Returns 'send',
   * 'pause' (send it, then stop reading) or 'drop'.
   */
  due(congested: boolean): 'send' | 'pause' | 'drop' {
    if (this.over) {
      this.dropped++;
      return 'drop';
    }
    if (!congested) {
      this.owed = 0;
      return 'send';
    }
    if (++this.owed < this.max) return 'send';
    this.over = true;
    return 'pause';
  }

  /** The write side drained below its mark: the peer reads again. */
  drained(): void {
    this.owed = 0;
    this.over = false;
  }
}
