import { EventEmitter } from 'node:events';
import type { Clock } from './clock.ts';
import { closeCodeFor } from './close-code.ts';
import { FrameDecoder } from './decode.ts';
import { encodeFrame, encodeGoAway, encodeHeader, encodePing, encodeReset, encodeWindow } from './encode.ts';
import { LimitError, ProtocolError, ResetCode, SessionClosedError, TunnelError } from './errors.ts';
import { COPY_THRESHOLD_BYTES, FrameWriter } from './frame-writer.ts';
import { firstEvent } from './first-event.ts';
import { FrameFlag, FrameType, type Frame } from './frame.ts';
import { decodeOpenHead, decodeResponseHead, encodeOpenHead, encodeResponseHead, type OpenHead, type ResponseHead } from './head.ts';
import { DEAD_PEER_LOG, KeepAlive, type DeadCode } from './keep-alive.ts';
import { DEFAULT_LIMITS, type SessionLimits } from './limits.ts';
import { silentLogger, type Logger } from './logger.ts';
import { decodePeers, encodePeers } from './peers.ts';
import type { Borrowed } from './borrowed.ts';
import { ReplyGate } from './reply-gate.ts';
import {
  isGoingAway,
  nextSessionState,
  refusesNewStreams,
  SessionEvent,
  SessionState,
  type SessionEventValue,
  type SessionStateValue,
} from './session-state.ts';
import { TunnelStream, type StreamHost } from './stream.ts';
import { StreamTable } from './stream-table.ts';
import type { Transport } from './transport.ts';

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** `server` opens even stream ids, `client` odd ones. */
  readonly role: 'client' | 'server';
  /** The byte stream to run over. */
  readonly transport: Transport;
  /** Limits; missing fields take {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<SessionLimits>;
  /** Scoped logger; frame-level detail goes to trace. Without one the session logs nothing. */
  readonly logger?: Logger;
  /** Called for every stream the peer opens; the handler must reply or reset it. */
  readonly onStream?: (stream: TunnelStream) => void;
  /** Time and timers the session runs on: Node's is `systemClock` in @tunnel/tunnel-io, a test may drive its own. */
  readonly clock: Clock;
}

const EMPTY = Buffer.alloc(0);

/**
 * A multiplexed tunnel session over one transport. Both ends run the same class (the edge client
 * and the exit server are roles over it): streams, credit-based flow control, keep-alive pings
 * with RTT, GOAWAY drain, and batching of frames into as few transport writes as possible.
 *
 * Events: `close` (err?: TunnelError), `goaway` (reason), `rtt` (ms), `idle` (last stream closed),
 * `peers` (instance ids of a PEERS frame), `responsive` (ok, owedMs: see Responsiveness).
 */
export class Session extends EventEmitter implements StreamHost {
  /** Effective limits. */
  readonly limits: SessionLimits;
  /** Transport bytes received. */
  bytesIn = 0;

  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly traceOn: boolean;
  private readonly clock: Clock;
  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly keepAlive: KeepAlive;
  private readonly streams: StreamTable;
  private readonly onStream?: (stream: TunnelStream) => void;
  private state: SessionStateValue = SessionState.ACTIVE;
  /** Replies owed to a peer that does not read them; bounds the write queue against floods. */
  private readonly replies: ReplyGate;

  constructor(options: SessionOptions) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.transport = options.transport;
    this.log = options.logger ?? silentLogger;
    this.traceOn = this.log.level === 'trace';
    this.clock = options.clock;
    this.onStream = options.onStream;
    this.streams = new StreamTable(options.role, this.limits.maxStreams);
    this.decoder = new FrameDecoder(this.limits, (frame) => this.handleFrame(frame));
    this.writer = new FrameWriter(this.transport, this.limits, this.clock, () => this.state !== SessionState.CLOSED);
    this.replies = new ReplyGate(this.limits, this.writer, this.transport, this.log);
    this.keepAlive = new KeepAlive(this.limits, this.clock, this.writer, {
      ping: () => this.ping(),
      dead: (code, ms) => this.dead(code, ms),
      responsive: (ok, owedMs) => this.emit('responsive', ok, owedMs),
    });
    this.transport.bind({
      data: (chunk) => this.receive(chunk),
      drain: () => this.handleDrain(),
      close: (err) => this.destroy(err ? new SessionClosedError('TUN_ERR_SESSION_CLOSED', err.message, { cause: err }) : undefined),
    });
  }

  /** Streams opened by either side since the start. */
  get streamsOpened(): number {
    return this.streams.opened;
  }

  /** Round-trip time of the last answered PING, ms (undefined until one comes back). */
  get rttMs(): number | undefined {
    return this.keepAlive.rttMs;
  }

  /** Transport bytes sent. */
  get bytesOut(): number {
    return this.writer.bytesOut;
  }

  /** Streams currently open. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** Time since anything was last heard from the peer, ms (a liveness hint without a round trip). */
  get silentForMs(): number {
    return this.keepAlive.silentForMs;
  }

  /** Where the session is in its lifecycle (see {@link SessionState}). */
  get lifecycle(): SessionStateValue {
    return this.state;
  }

  /** True once either side sent GOAWAY or the session closed: open no new streams. */
  get isGoingAway(): boolean {
    return isGoingAway(this.state);
  }

  /** True once the session is closed. */
  get isClosed(): boolean {
    return this.state === SessionState.CLOSED;
  }

  /** Replies to the peer dropped because it asked for more than maxQueuedReplies without reading. */
  get repliesDropped(): number {
    return this.replies.dropped;
  }

  /** True while the transport is not read because replies to the peer are backed up. */
  get readsPaused(): boolean {
    return this.replies.readsPaused;
  }

  /** Largest DATA payload per frame, bytes. */
  get maxFrameBytes(): number {
    return this.limits.maxFrameBytes;
  }

  /**
   * Opens a stream carrying `head`. With `fin`, the opener sends no body.
   * Throws {@link LimitError} when the peer's stream limit is reached and
   * {@link SessionClosedError} when the session is closing.
   */
  openStream(head: OpenHead, fin = false): TunnelStream {
    if (this.isGoingAway) throw new SessionClosedError('TUN_ERR_GOING_AWAY', 'session is draining or closed');
    if (this.streams.size >= this.limits.maxStreams) {
      throw new LimitError('TUN_ERR_TOO_MANY_STREAMS', `${this.streams.size} streams open`);
    }
    const id = this.streams.takeLocalId();
    const payload = encodeOpenHead(head);
    if (payload.length > this.limits.maxHeaderBytes) {
      throw new LimitError('TUN_ERR_HEADERS_TOO_LARGE', `head of ${payload.length} bytes`);
    }
    const stream = this.newStream(id, head);
    this.writer.enqueueSmall(encodeFrame(FrameType.OPEN, fin ? FrameFlag.FIN : 0, id, payload));
    this.keepAlive.expect();
    // No body: the OPEN frame's FIN already ended our half.
    if (fin) stream.endedByOpen();
    return stream;
  }

  /** Feeds transport bytes (the transport calls this; tests may too). */
  receive(chunk: Borrowed): void {
    if (this.isClosed) return;
    this.bytesIn += chunk.length;
    this.keepAlive.heard();
    try {
      this.decoder.write(chunk);
    } catch (err) {
      const e = err instanceof TunnelError ? err : new ProtocolError('TUN_ERR_PROTOCOL', String(err));
      this.log.warn({ err: e.message, code: e.code }, 'closing session: bad frame from peer');
      this.writer.enqueueSmall(encodeGoAway(ResetCode.PROTOCOL));
      this.writer.flush();
      this.destroy(e);
    }
  }

  /** Sends a PING now and returns; its answer sets {@link rttMs} and emits 'rtt'. */
  ping(): void {
    if (this.isClosed) return;
    this.writer.enqueueSmall(encodePing(this.keepAlive.pingPayload(), false));
  }

  /**
   * Sends a PEERS frame naming `instances` (see peers.ts). Only call it when the peer declared the
   * `peers` capability: an older peer closes the session on a frame type it does not know.
   */
  sendPeers(instances: readonly string[]): void {
    if (this.isClosed) return;
    this.writer.enqueueSmall(encodeFrame(FrameType.PEERS, 0, 0, encodePeers(instances)));
  }

  /**
   * Graceful drain: tell the peer to open no new streams on us; existing streams finish.
   * Resolves when the peer has seen the GOAWAY and no stream is left, or after `timeoutMs`.
   * `reason` (a {@link ResetCode}) tells the peer why: CANCEL for a plain drain.
   */
  async goAway(timeoutMs: number, reason: number = ResetCode.CANCEL): Promise<void> {
    if (this.isClosed) return;
    const deadline = this.clock.now() + timeoutMs;
    if (this.move(SessionEvent.SEND_GOAWAY)) this.writer.enqueueSmall(encodeGoAway(reason));
    // The peer may have opened streams that cross our GOAWAY on the wire. A PING sent after the
    // GOAWAY is answered only once the peer has read it, and the transport keeps order, so when
    // the answer arrives every stream the peer will ever open on us has arrived too. Closing
    // before that would fail those streams instead of refusing them (retryable).
    this.ping();
    await this.until('rtt', deadline);
    if (this.streams.size > 0) await this.until('idle', deadline);
  }

  /** Closes the session: flushes what is queued, fails open streams, closes the transport. */
  close(): void {
    if (this.isClosed) return;
    this.writer.flush();
    this.destroy();
  }

  /** Tears the session down now; open streams fail with `err` (or a session-closed error). */
  destroy(err?: TunnelError): void {
    if (!this.move(SessionEvent.CLOSE)) return;
    this.keepAlive.stop();
    const streamErr = err ?? new SessionClosedError('TUN_ERR_SESSION_CLOSED');
    for (const stream of this.streams.values()) stream.handleSessionClosed(streamErr);
    this.streams.clear();
    // What was queued is never sent: its buffers are free again.
    this.writer.discard();
    this.transport.close(closeCodeFor(err), err ? err.code : 'closed');
    this.emit('close', err);
  }

  // ---- StreamHost -------------------------------------------------------------------------

  /** @internal */
  sendData(streamId: number, payload: Buffer, fin: boolean): void {
    const flags = fin ? FrameFlag.FIN : 0;
    if (payload.length < COPY_THRESHOLD_BYTES) {
      this.writer.enqueueSmall(encodeFrame(FrameType.DATA, flags, streamId, payload));
    } else {
      this.writer.enqueueSmall(encodeHeader(FrameType.DATA, flags, streamId, payload.length));
      this.writer.enqueueLarge(payload);
    }
  }

  /** @internal */
  sendReply(streamId: number, head: ResponseHead, fin: boolean): void {
    this.writer.enqueueSmall(encodeFrame(FrameType.REPLY, fin ? FrameFlag.FIN : 0, streamId, encodeResponseHead(head)));
  }

  /** @internal */
  sendWindow(streamId: number, increment: number): void {
    this.writer.enqueueSmall(encodeWindow(streamId, increment));
  }

  /** @internal */
  sendReset(streamId: number, reason: number): void {
    if (this.isClosed) return;
    this.writer.enqueueSmall(encodeReset(streamId, reason));
  }

  /** @internal */
  whenWritable(cb: () => void): void {
    this.writer.whenWritable(cb);
  }

  /** @internal */
  streamClosed(streamId: number): void {
    if (!this.streams.delete(streamId)) return;
    if (this.streams.size === 0) this.emit('idle');
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Applies `event` (see SESSION_TRANSITIONS); true when it changed the state. */
  private move(event: SessionEventValue): boolean {
    const next = nextSessionState(this.state, event);
    if (next === this.state) return false;
    this.state = next;
    return true;
  }

  /** Resolves on `event`, on close, or at `deadline` (ms since epoch). */
  private until(event: string, deadline: number): Promise<void> {
    return this.isClosed ? Promise.resolve() : firstEvent(this, [event, 'close'], deadline, this.clock);
  }

  private newStream(id: number, head: OpenHead): TunnelStream {
    const stream = new TunnelStream(this, id, head, { sendWindow: this.limits.streamWindow, recvWindow: this.limits.streamWindow });
    this.streams.add(stream);
    return stream;
  }

  private handleFrame(frame: Frame): void {
    if (this.traceOn)
      this.log.trace({ type: frame.type, stream: frame.streamId, flags: frame.flags, bytes: frame.payload.length }, 'frame in');
    const fin = (frame.flags & FrameFlag.FIN) !== 0 && frame.more !== true;
    switch (frame.type) {
      case FrameType.DATA:
        return this.handleData(frame, fin);
      case FrameType.OPEN:
        return this.handleOpen(frame, fin);
      case FrameType.REPLY:
        return this.handleReply(frame, fin);
      case FrameType.WINDOW:
        this.streams.get(frame.streamId)?.handleWindow(frame.payload.readUInt32BE(0));
        return;
      case FrameType.RESET:
        this.streams.get(frame.streamId)?.handleReset(frame.payload.readUInt32BE(0));
        return;
      case FrameType.PING:
        return this.handlePing(frame);
      case FrameType.GOAWAY:
        if (this.move(SessionEvent.RECV_GOAWAY)) this.emit('goaway', frame.payload.readUInt32BE(0));
        return;
      case FrameType.PEERS:
        // A malformed set throws a ProtocolError: receive() closes the session with it.
        this.emit('peers', decodePeers(frame.payload));
        return;
    }
  }

  private handleData(frame: Frame, fin: boolean): void {
    const stream = this.streams.get(frame.streamId);
    if (stream) stream.handleData(frame.payload, fin);
    else if (!fin && frame.more !== true) this.reply(encodeReset(frame.streamId, ResetCode.CANCEL));
  }

  private handleReply(frame: Frame, fin: boolean): void {
    const stream = this.streams.get(frame.streamId);
    if (!stream) return;
    let head: ResponseHead;
    try {
      head = decodeResponseHead(frame.payload);
    } catch (err) {
      stream.reset(ResetCode.PROTOCOL, err as Error);
      return;
    }
    stream.handleReply(head, fin);
  }

  private handlePing(frame: Frame): void {
    if ((frame.flags & FrameFlag.ACK) === 0) {
      this.reply(encodePing(Buffer.from(frame.payload), true));
      return;
    }
    const rtt = this.keepAlive.answered(frame.payload);
    if (rtt !== undefined) this.emit('rtt', rtt);
  }

  private handleOpen(frame: Frame, fin: boolean): void {
    const id = frame.streamId;
    this.streams.takeRemoteId(id);
    if (refusesNewStreams(this.state) || this.streams.remoteFull || !this.onStream) {
      this.reply(encodeReset(id, ResetCode.REFUSED));
      return;
    }
    let head: OpenHead;
    try {
      head = decodeOpenHead(frame.payload);
    } catch {
      this.reply(encodeReset(id, ResetCode.PROTOCOL));
      return;
    }
    const stream = this.newStream(id, head);
    if (fin) stream.handleData(EMPTY, true);
    this.onStream(stream);
  }

  private dead(code: DeadCode, ms: number): void {
    if (this.isClosed) return;
    this.log.warn({ code, ms }, DEAD_PEER_LOG[code]);
    this.destroy(new SessionClosedError(code));
  }

  /** Queues a reply the peer asked for; see {@link ReplyGate}. */
  private reply(frame: Buffer): void {
    if (this.isClosed) return;
    this.replies.send(frame);
  }

  private handleDrain(): void {
    if (!this.writer.belowMark) return;
    this.replies.resumeReads();
    this.writer.release();
  }
}
