/** Time limits of one public connection, ms; 0 turns one off. */
export interface PublicDeadlineOptions {
  /** From the first byte of a request head (blank lines included) to its end. */
  readonly headersTimeoutMs: number;
  /** Longest a request body being read may go without a byte (reading paused by us does not count). */
  readonly bodyTimeoutMs: number;
  /** A kept-alive connection with nothing in flight lets go of its tunnel stream (and the edge client of its upstream connection) after this long. */
  readonly streamIdleTimeoutMs: number;
  /** Longest a response may sit unsent because the public client does not read it. */
  readonly sendTimeoutMs: number;
  /** Longest an upstream may go silent in the middle of a response (the client reading). */
  readonly upstreamReadTimeoutMs: number;
}

/** What the connection does when a deadline passes. */
export interface DeadlineActions {
  /** The head did not complete in time: answer 408. */
  headTooSlow(): void;
  /** The request body brought no byte for bodyTimeoutMs. */
  bodyStalled(): void;
  /** Nothing in flight for streamIdleTimeoutMs: release the tunnel stream. */
  streamIdle(): void;
  /** The client has not taken response bytes for sendTimeoutMs: cut. */
  sendStalled(): void;
  /** The upstream sent nothing for upstreamReadTimeoutMs mid-response: reset and cut. */
  upstreamStalled(): void;
}

/**
 * One restartable timer; `ms` 0 never fires. It keeps one node timer for its life: stopping
 * only marks it stopped (a pending timer then fires once for nothing), and arming again
 * refreshes it, since a request arms and stops several limits and a new setTimeout plus
 * clearTimeout each time cost several times a refresh (and a timer object per request for the
 * young generation to copy). {@link dispose} clears it for good.
 */
export class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly ms: number,
    private readonly fire: () => void,
  ) {}

  /** True while it runs (armed and neither fired nor stopped). */
  get armed(): boolean {
    return this.running;
  }

  /** Starts the timer unless it runs already. */
  arm(): void {
    if (!this.running) this.restart();
  }

  /** Starts it again from now. */
  restart(): void {
    if (this.ms <= 0) return;
    this.running = true;
    // A timer that fired is not refreshed: node would bring it back unref'd.
    if (this.timer !== undefined) this.timer.refresh();
    else this.timer = setTimeout(this.expired, this.ms);
  }

  /** Stops it; the node timer stays for the next arm. */
  stop(): void {
    this.running = false;
  }

  /** Stops it and lets go of the node timer (the connection is gone). */
  dispose(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly expired = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    this.running = false;
    this.fire();
  };
}

/**
 * The time limits of one public connection, apart from its I/O: the connection reports what
 * happens (bytes in, heads, responses, its socket filling and draining) and this decides when a
 * limit has passed. Each limit is about one party: the client sending its head, the client
 * reading the response, the upstream sending it, and nobody using a kept stream.
 */
export class PublicDeadlines {
  private readonly head: Deadline;
  private readonly body: Deadline;
  private readonly idle: Deadline;
  private readonly send: Deadline;
  private readonly upstream: Deadline;
  /** Heads completed so far: tells whether bytes at a message boundary were only blank lines. */
  private heads = 0;

  constructor(opts: PublicDeadlineOptions, actions: DeadlineActions) {
    this.head = new Deadline(opts.headersTimeoutMs, () => actions.headTooSlow());
    this.body = new Deadline(opts.bodyTimeoutMs, () => actions.bodyStalled());
    this.idle = new Deadline(opts.streamIdleTimeoutMs, () => actions.streamIdle());
    this.send = new Deadline(opts.sendTimeoutMs, () => actions.sendStalled());
    this.upstream = new Deadline(opts.upstreamReadTimeoutMs, () => actions.upstreamStalled());
  }

  /** Heads completed so far (pass to {@link afterBytesIn}). */
  get headsDone(): number {
    return this.heads;
  }

  /**
   * Bytes from the client were parsed. `atBoundary`: the reader was between messages before
   * them; `inHead`: a head is now incomplete. Blank lines alone (no head completed) count as
   * the start of a head, so `\r\n` every few seconds cannot keep a connection forever.
   */
  afterBytesIn(atBoundary: boolean, headsBefore: number, inHead: boolean): void {
    if (inHead || (atBoundary && headsBefore === this.heads)) this.head.arm();
  }

  /** Restarts the head limit (its bytes were held by us, not late). */
  headHeld(): void {
    this.head.restart();
  }

  /** A request head completed: a request is in flight. */
  headDone(): void {
    this.heads++;
    this.head.stop();
    this.idle.stop();
  }

  /** A request body began or brought bytes: its client has bodyTimeoutMs for the next ones. */
  bodyFlowing(): void {
    this.body.restart();
  }

  /** The request body is complete, or we stopped reading it (a full stream): its client is not late. */
  bodyStopped(): void {
    this.body.stop();
  }

  /** The last response in flight completed: the kept stream is idle. */
  nothingInFlight(): void {
    this.idle.restart();
    this.upstream.stop();
  }

  /** Response bytes arrived; `midResponse`: a response has begun and not ended. */
  responseBytes(midResponse: boolean): void {
    if (midResponse) this.upstream.restart();
    else this.upstream.stop();
  }

  /** The upstream limit passed while we held the upstream back ourselves: start it again. */
  upstreamHeld(): void {
    this.upstream.restart();
  }

  /** Response bytes were written; `full`: the socket's buffer is over its mark. */
  wrote(full: boolean): void {
    if (full) this.send.arm();
  }

  /** The socket's buffer drained: the client reads. */
  drained(): void {
    this.send.stop();
  }

  /** The connection closed. */
  stop(): void {
    this.head.dispose();
    this.body.dispose();
    this.idle.dispose();
    this.send.dispose();
    this.upstream.dispose();
  }
}
