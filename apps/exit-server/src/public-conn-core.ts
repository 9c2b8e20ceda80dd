import type { Socket } from 'node:net';
import { HttpError, ResetCode, stripV4Mapped, type Session } from '@tunnel/tunnel-protocol';
import { tickCorker, writeLeased } from '@tunnel/tunnel-io';
import { parseRequestHead, requestHeadTooLarge, type RequestHead } from './http1/head.ts';
import { heldBytesError } from './http1/held-bytes.ts';
import { MessageReader, type ReaderEvents } from './http1/reader.ts';
import { plainReply } from './plain-reply.ts';
import type { Binding, Pending } from './public-binding.ts';
import { ConnState, holdsReading, moveTo } from './public-conn-state.ts';
import { Deadline, PublicDeadlines } from './public-deadlines.ts';
import type { PublicHttp } from './public-http.ts';
import { PublicStreams } from './public-streams.ts';

/** What a 503 answered here says: the same second as a refused connection's (see admit). */
const RETRY_AFTER = ['Retry-After: 1'];

const BODY_STALLED = 'the client stopped sending its request body (--body-timeout)';

/**
 * What both directions of one public connection share: its socket, its {@link ConnState}, the
 * tunnel streams it holds, its time limits, and the ways it ends (an error answered, an end,
 * a cut). The request side ({@link PublicConnection}) and the response side
 * ({@link ResponseSide}) act through it.
 */
export class ConnCore {
  /** Where the connection is in its life; changed only through {@link move}. */
  private current = ConnState.Reading;
  /** End once nothing is owed: the client half-closed, or the exit server drains. */
  endAfterResponses = false;
  /** Reading is paused until a full tunnel stream drains (back-pressure, apart from the state). */
  private pausedForStream = false;
  /**
   * A request with `Expect: 100-continue` awaits its 100 and no byte of its body came yet: the
   * upstream is on the clock (--request-timeout), not the client (see continued).
   */
  awaitingContinue = false;
  /** The wait for the oldest request's response head (--request-timeout). */
  private readonly responseDeadline: Deadline;
  /** The public client's address, IPv4-mapped prefix stripped. */
  readonly remoteAddress: string;
  /** The request framer of this connection. */
  readonly requests: MessageReader<RequestHead>;
  /** The tunnel streams held (see PublicStreams). */
  readonly streams = new PublicStreams();
  /** The connection's time limits. */
  readonly deadlines: PublicDeadlines;
  /** Replays `b`'s requests on another client when safe, true if it did (ResponseSide.rescue; set by its connection). */
  rescuer: ((b: Binding) => boolean) | undefined;
  /** Everything written in one tick leaves in one writev (see tickCorker). */
  private readonly corkForTick: () => void;

  constructor(
    /** The public side this connection belongs to. */
    readonly owner: PublicHttp,
    /** The public socket. */
    readonly socket: Socket,
    requestEvents: ReaderEvents<RequestHead>,
  ) {
    this.remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
    this.corkForTick = tickCorker(socket);
    this.responseDeadline = new Deadline(owner.opts.requestTimeoutMs, () => this.onResponseTimeout());
    const max = owner.opts.maxHeaderBytes;
    this.requests = new MessageReader<RequestHead>(
      parseRequestHead,
      max,
      requestEvents,
      (head) => requestHeadTooLarge(head, max),
      (detail) => new HttpError('TUN_ERR_BAD_REQUEST', 400, detail),
      { maxBytes: owner.opts.maxHeldBytes, over: heldBytesError },
    );
    this.deadlines = new PublicDeadlines(owner.opts, {
      headTooSlow: () => {
        // Bytes we hold back (behind a busy request, before an upgrade's answer) are not late.
        if (this.state === ConnState.HeadHeld || this.state === ConnState.UpgradeAsked) this.deadlines.headHeld();
        else this.refuse(new HttpError('TUN_ERR_PUBLIC_TIMEOUT', 408, 'the request head took too long (--headers-timeout)'));
      },
      bodyStalled: () => {
        const b = this.streams.active;
        // Nothing of the stalled request's answer has gone out: it can still be answered 408.
        if (!b?.answerable || b.pending.length !== 1) return this.timedOut(BODY_STALLED);
        this.owner.log.info(
          { remote: this.remoteAddress, code: 'TUN_ERR_PUBLIC_TIMEOUT', why: BODY_STALLED },
          'public connection timed out',
        );
        this.refuse(new HttpError('TUN_ERR_PUBLIC_TIMEOUT', 408, BODY_STALLED));
      },
      streamIdle: () => this.leaveIfIdle(),
      sendStalled: () => this.timedOut('the client stopped reading the response (--send-timeout)'),
      upstreamStalled: () => {
        // The client not reading holds the upstream back: that is the send timeout's business.
        if (this.socket.writableNeedDrain) this.deadlines.upstreamHeld();
        else this.timedOut('the upstream stopped sending mid-response (--upstream-read-timeout)', ResetCode.UPSTREAM_TIMEOUT);
      },
    });
  }

  /** Where the connection is in its life. */
  get state(): ConnState {
    return this.current;
  }

  /** Moves to `to` (see NEXT_STATES: an illegal move fails an assertion). */
  move(to: ConnState): void {
    this.current = moveTo(this.current, to);
  }

  /** True once closing: nothing more is read, forwarded or answered. */
  get closing(): boolean {
    return this.current === ConnState.Closing;
  }

  /** Nothing in flight and nothing half-read: the keep-alive timeout may close it, a drain may end it now. */
  get idle(): boolean {
    // A piping connection's reader is raw, never idle.
    return (this.streams.active?.pending.length ?? 0) === 0 && this.current !== ConnState.UpgradeAsked && this.requests.idle;
  }

  /**
   * Lets go of idle held streams (and so of the upstream connections behind them): the one on
   * `session` when its client starts draining, or every one when the connection has had
   * nothing in flight for --stream-idle-timeout.
   */
  leaveIfIdle(session?: Session): void {
    if (this.current === ConnState.Piping) return;
    const held = session === undefined ? this.streams.all() : [this.streams.onSession(session)];
    for (const b of held) if (b && b.pending.length === 0 && !b.responses.raw) this.release(b);
  }

  /** The client of `session` turned unresponsive: the requests owed on it are replayed elsewhere when that is safe (see ResponseSide.rescue). */
  rescue(session: Session): void {
    const b = this.streams.active;
    if (b && b.client.session === session) this.rescuer?.(b);
  }

  /** Sends request bytes down `b`, keeping them for a replay while every request on it is bodiless (`replayable`). */
  send(b: Binding, bytes: Buffer, replayable: boolean): void {
    if (b.replay) {
      if (replayable) b.replay.push(bytes);
      else b.replay = null;
    }
    if (!b.stream.write(bytes)) this.pauseForStream(b);
  }

  /** The tunnel stream is full: stop reading the public socket until it drains. */
  pauseForStream(b: Binding): void {
    if (this.pausedForStream) return;
    this.pausedForStream = true;
    this.socket.pause();
    if (this.requests.inBody) this.clockBody();
    b.stream.once('drain', () => {
      this.pausedForStream = false;
      if (this.requests.inBody) this.clockBody();
      this.resumeReading();
    });
  }

  /**
   * A request body began, or its reading paused or resumed. While it is read its client is on
   * the clock (--body-timeout); while a full stream keeps us from reading it the upstream is
   * (--request-timeout), as when it is late with a response head. An upload may take longer
   * than --request-timeout: the wait for the answer starts when the request is read.
   */
  clockBody(): void {
    const b = this.streams.active;
    const oldest = b !== undefined && b.pending.length === 1 && b.awaitingHead;
    if (this.pausedForStream) {
      this.deadlines.bodyStopped();
      if (oldest) this.armResponseTimer();
    } else {
      this.deadlines.bodyFlowing();
      if (oldest) this.clearResponseTimer();
    }
  }

  /** The upstream answered 100 Continue, or the client sent body bytes without waiting: the body's clock starts. */
  continued(): void {
    if (!this.awaitingContinue) return;
    this.awaitingContinue = false;
    if (this.requests.inBody) this.clockBody();
  }

  /** A whole request was read: when it is the oldest owed, the upstream has --request-timeout to answer. */
  requestRead(): void {
    this.awaitingContinue = false;
    this.deadlines.bodyStopped();
    const b = this.streams.active;
    if (b && b.pending.length === 1 && b.awaitingHead && !this.responseDeadline.armed) this.armResponseTimer();
  }

  /** Reads the socket again unless something still holds it paused (a full stream, a held head, an upgrade's answer, closing). */
  resumeReading(): void {
    if (!this.pausedForStream && !holdsReading(this.current)) this.socket.resume();
  }

  /**
   * Writes response bytes, leasing borrowed read buffers until written (see writeLeased); the
   * stream's sink reports the socket full, which withholds the stream's credit until it drains.
   */
  write(buf: Buffer, from: Binding): void {
    if (buf.length === 0 || this.socket.destroyed) return;
    const p = from.pending[0];
    if (p) p.bytesOut += buf.length;
    this.corkForTick();
    writeLeased(this.socket, buf);
    this.deadlines.wrote(this.socket.writableNeedDrain);
  }

  /** A malformed request: answered with its status when the connection is between responses, else cut. */
  refuse(err: unknown): void {
    const status = err instanceof HttpError ? err.status : 400;
    const b = this.streams.active;
    this.owner.log.debug({ remote: this.remoteAddress, status, err: (err as Error).message }, 'bad public request');
    // The bad bytes belong to the one request in flight and not yet answered (its body, or
    // bytes sent before its upgrade was answered): its answer is this status. Bytes of a later
    // request cannot be answered before the earlier ones: cut.
    const current = this.requests.inBody || this.current === ConnState.UpgradeAsked;
    const answerable = !b || b.idle || (current && b.pending.length === 1 && b.answerable);
    if (!answerable) {
      this.abort();
      return;
    }
    if (b) this.dropPending(b, status); // the request the bad bytes belong to, if any: answered (and logged) with this status
    this.answer(status, (err as Error).message);
  }

  /**
   * `b`'s upstream failed: the requests it owes are counted and logged with `status` (or the
   * status already sent, once a response began), then answered with it while nothing of the
   * response has gone out, else cut.
   */
  failOwed(b: Binding, status: number, text: string): void {
    const answerable = b.answerable;
    this.dropPending(b, answerable ? status : (b.pending[0]?.status ?? status));
    if (answerable) this.answer(status, text);
    else this.abort();
  }

  /** A time limit passed: logged with its code, the streams reset, the connection cut. */
  timedOut(why: string, reason: number = ResetCode.CANCEL): void {
    if (this.closing) return;
    this.owner.log.info({ remote: this.remoteAddress, code: 'TUN_ERR_PUBLIC_TIMEOUT', why }, 'public connection timed out');
    for (const b of this.streams.all()) {
      this.detach(b);
      this.dropPending(b, 504);
      if (!b.stream.destroyed) b.stream.reset(reason);
    }
    this.move(ConnState.Closing);
    this.socket.destroy();
  }

  /**
   * Answers with a short plain-text error and closes the connection. A 503 (no tunnel, a busy
   * or draining client, a draining exit server) is passing, so it says when to try again.
   */
  answer(status: number, text: string): void {
    if (this.closing) return;
    this.move(ConnState.Closing);
    this.requests.pause();
    for (const b of this.streams.all()) this.release(b);
    if (this.socket.destroyed) return;
    this.socket.end(plainReply(status, `${text}\n`, status === 503 ? RETRY_AFTER : undefined));
  }

  /** Cuts the connection: what was owed cannot be answered any more. */
  abort(): void {
    this.move(ConnState.Closing);
    for (const b of this.streams.all()) this.release(b);
    this.socket.destroy();
  }

  /** Ends the connection cleanly: the streams end (not reset), the socket ends after what was written. */
  endSocket(): void {
    this.move(ConnState.Closing);
    for (const b of this.streams.all()) {
      this.detach(b);
      this.dropPending(b, 0);
      if (!b.stream.destroyed) b.stream.end();
    }
    if (!this.socket.destroyed) this.socket.end();
  }

  /** The socket closed: every request still owed was cut by the client (499), every stream is reset. */
  closed(): void {
    this.deadlines.stop();
    this.responseDeadline.dispose();
    this.move(ConnState.Closing);
    for (const b of this.streams.all()) {
      this.detach(b);
      this.dropPending(b, 499);
      if (!b.stream.destroyed) b.stream.reset(ResetCode.CANCEL);
    }
  }

  /** Lets go of a stream: a reset, since nothing more is wanted from it. */
  release(b: Binding): void {
    this.detach(b);
    this.dropPending(b, 0);
    if (!b.stream.destroyed) b.stream.reset(ResetCode.CANCEL);
  }

  /** Lets go of a held stream that ended by itself. */
  forget(b: Binding): void {
    if (!this.streams.holds(b)) return;
    this.detach(b);
    if (!b.stream.destroyed) b.stream.end();
  }

  /** Stops holding `b` (and its response timer, when it is the active one). */
  detach(b: Binding): void {
    if (this.streams.active === b) this.clearResponseTimer();
    if (this.streams.delete(b)) this.owner.unbind(this, b.client.session);
  }

  /** The oldest pending request got its whole response. */
  finish(b: Binding): void {
    const p = b.pending.shift();
    if (!p) return;
    this.owner.counters.inFlight--;
    b.client.inFlight--;
    // A request pipelined behind a close-delimited response never got one: logged with status 0.
    this.owner.requestDone(p, p.status ?? 0, b.client, b.series);
  }

  /** Forgets every pending request of `b` (failed with `status`, 0 when already answered elsewhere). */
  dropPending(b: Binding, status: number): void {
    while (b.pending.length > 0) {
      const p = b.pending.shift() as Pending;
      this.owner.counters.inFlight--;
      b.client.inFlight--;
      if (status) this.owner.requestDone(p, status, b.client, b.series);
    }
  }

  /** (Re)starts the wait for the oldest request's response head (--request-timeout). */
  armResponseTimer(): void {
    this.responseDeadline.restart();
  }

  /** Stops waiting for a response head. */
  clearResponseTimer(): void {
    this.responseDeadline.stop();
  }

  private onResponseTimeout(): void {
    const b = this.streams.active;
    if (!b || !b.awaitingHead) return;
    this.detach(b);
    b.stream.reset(ResetCode.UPSTREAM_TIMEOUT);
    if (b.responses.idle) this.answer(504, 'upstream timed out behind the tunnel');
    else this.socket.destroy();
    this.dropPending(b, 504);
  }
}
