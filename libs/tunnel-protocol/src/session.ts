import { EventEmitter } from 'node:events';
import { FrameDecoder } from './decode.ts';
import { encodeFrame, encodeGoAway, encodeHeader, encodePing, encodeReset, encodeWindow } from './encode.ts';
import { LimitError, ProtocolError, ResetCode, SessionClosedError, TunnelError } from './errors.ts';
import { FrameFlag, FrameType, type Frame } from './frame.ts';
import { decodeOpenHead, decodeResponseHead, encodeOpenHead, encodeResponseHead, type OpenHead, type ResponseHead } from './head.ts';
import { DEFAULT_LIMITS, type SessionLimits } from './limits.ts';
import { silentLogger, type Logger } from './logger.ts';
import { decodePeers, encodePeers } from './peers.ts';
import { leaseReadBuffer } from './borrowed.ts';
import { ReplyBacklog } from './reply-backlog.ts';
import { TunnelStream, type StreamHost } from './stream.ts';
import type { Transport } from './transport.ts';

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** `server` opens even stream ids, `client` odd ones. */
  readonly role: 'client' | 'server';
  /** The byte stream to run over. */
  readonly transport: Transport;
  /** Limits; missing fields take {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<SessionLimits>;
  /** Scoped logger; frame-level detail goes to trace. */
  readonly logger?: Logger;
  /** Called for every stream the peer opens; the handler must reply or reset it. */
  readonly onStream?: (stream: TunnelStream) => void;
}

function endLeases(leases: ReadonlyArray<() => void>): void {
  for (const release of leases) release();
}

/** Payloads below this size are copied into the batch buffer; larger ones go out as their own chunk. */
const COPY_THRESHOLD = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * A multiplexed tunnel session over one transport. Both ends run the same class (the edge client
 * and the exit server are roles over it): streams, credit-based flow control, keep-alive pings
 * with RTT, GOAWAY drain, and batching of frames into as few transport writes as possible.
 *
 * Events: `close` (err?: TunnelError), `goaway` (reason), `rtt` (ms), `idle` (last stream closed),
 * `peers` (readonly string[]: the instance ids of a PEERS frame).
 */
export class Session extends EventEmitter implements StreamHost {
  /** Effective limits. */
  readonly limits: SessionLimits;
  /** Round-trip time of the last answered PING, ms (undefined until one comes back). */
  rttMs: number | undefined;
  /** Transport bytes received. */
  bytesIn = 0;
  /** Transport bytes sent. */
  bytesOut = 0;
  /** Streams opened by either side since the start. */
  streamsOpened = 0;

  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly traceOn: boolean;
  private readonly decoder: FrameDecoder;
  private readonly streams = new Map<number, TunnelStream>();
  private readonly onStream?: (stream: TunnelStream) => void;
  private nextId: number;
  private lastRemoteId = 0;
  private remoteOpen = 0;
  private queue: Buffer[] = [];
  private queuedSmall: Buffer[] = [];
  private queuedSmallBytes = 0;
  /** Leases on borrowed read buffers queued as large payloads, ended once the transport wrote them. */
  private queuedLeases: Array<() => void> = [];
  private flushScheduled = false;
  private congested = false;
  private writableWaiters: Array<() => void> = [];
  private lastHeardAt = Date.now();
  private pingTimer: NodeJS.Timeout | undefined;
  /** Fires when the peer has been silent for idleTimeoutMs (re-aimed at the last byte heard each time). */
  private idleTimer: NodeJS.Timeout | undefined;
  private pingSentAt = 0n;
  private closedWith: TunnelError | null | undefined;
  private localGoAway = false;
  private remoteGoAway = false;
  /** Replies owed to a peer that does not read them; bounds the write queue against floods. */
  private readonly replies: ReplyBacklog;

  constructor(options: SessionOptions) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.transport = options.transport;
    this.log = options.logger ?? silentLogger;
    this.traceOn = this.log.level === 'trace';
    this.onStream = options.onStream;
    this.nextId = options.role === 'client' ? 1 : 2;
    this.replies = new ReplyBacklog(this.limits.maxQueuedReplies);
    this.decoder = new FrameDecoder(this.limits, (frame) => this.handleFrame(frame));
    this.transport.bind({
      data: (chunk) => this.receive(chunk),
      drain: () => this.handleDrain(),
      close: (err) => this.destroy(err ? new SessionClosedError('TUN_ERR_SESSION_CLOSED', err.message, { cause: err }) : undefined),
    });
    if (this.limits.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.keepAlive(), this.limits.pingIntervalMs);
      this.pingTimer.unref();
    }
    if (this.limits.idleTimeoutMs > 0) {
      // Its own timer, not the ping's: a dead link is declared within idleTimeoutMs of the last
      // byte heard, not up to a ping interval later.
      this.idleTimer = setTimeout(() => this.checkIdle(), this.limits.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  /** Streams currently open. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** Time since anything was last heard from the peer, ms (a liveness hint without a round trip). */
  get silentForMs(): number {
    return Date.now() - this.lastHeardAt;
  }

  /** True once either side sent GOAWAY or the session closed: open no new streams. */
  get isGoingAway(): boolean {
    return this.localGoAway || this.remoteGoAway || this.closedWith !== undefined;
  }

  /** True once the session is closed. */
  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Replies to the peer dropped because it asked for more than maxQueuedReplies without reading. */
  get repliesDropped(): number {
    return this.replies.dropped;
  }

  /** True while the transport is not read because replies to the peer are backed up. */
  get readsPaused(): boolean {
    return this.replies.full;
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
    const id = this.nextId;
    if (id > 0xfffffffd) throw new SessionClosedError('TUN_ERR_GOING_AWAY', 'stream ids exhausted');
    this.nextId += 2;
    const payload = encodeOpenHead(head);
    if (payload.length > this.limits.maxHeaderBytes) {
      throw new LimitError('TUN_ERR_HEADERS_TOO_LARGE', `head of ${payload.length} bytes`);
    }
    const stream = new TunnelStream(this, id, head, { sendWindow: this.limits.streamWindow, recvWindow: this.limits.streamWindow });
    this.streams.set(id, stream);
    this.streamsOpened++;
    this.enqueueSmall(encodeFrame(FrameType.OPEN, fin ? FrameFlag.FIN : 0, id, payload));
    if (fin) {
      // No body: the OPEN frame's FIN already ended our half.
      stream.endedByOpen();
    }
    return stream;
  }

  /** Feeds transport bytes (the transport calls this; tests may too). */
  receive(chunk: Buffer): void {
    if (this.closedWith !== undefined) return;
    this.bytesIn += chunk.length;
    this.lastHeardAt = Date.now();
    try {
      this.decoder.write(chunk);
    } catch (err) {
      const e = err instanceof TunnelError ? err : new ProtocolError('TUN_ERR_PROTOCOL', String(err));
      this.log.warn({ err: e.message, code: e.code }, 'closing session: bad frame from peer');
      this.enqueueSmall(encodeGoAway(ResetCode.PROTOCOL));
      this.flush();
      this.destroy(e);
    }
  }

  /** Sends a PING now and returns; its answer sets {@link rttMs} and emits 'rtt'. */
  ping(): void {
    if (this.closedWith !== undefined) return;
    const opaque = Buffer.allocUnsafe(8);
    this.pingSentAt = process.hrtime.bigint();
    opaque.writeBigUInt64BE(this.pingSentAt);
    this.enqueueSmall(encodePing(opaque, false));
  }

  /**
   * Sends a PEERS frame naming `instances` (see peers.ts). Only call it when the peer declared the
   * `peers` capability: an older peer closes the session on a frame type it does not know.
   */
  sendPeers(instances: readonly string[]): void {
    if (this.closedWith !== undefined) return;
    this.enqueueSmall(encodeFrame(FrameType.PEERS, 0, 0, encodePeers(instances)));
  }

  /**
   * Graceful drain: tell the peer to open no new streams on us; existing streams finish.
   * Resolves when the peer has seen the GOAWAY and no stream is left, or after `timeoutMs`.
   * `reason` (a {@link ResetCode}) tells the peer why: CANCEL for a plain drain.
   */
  async goAway(timeoutMs: number, reason: number = ResetCode.CANCEL): Promise<void> {
    if (this.closedWith !== undefined) return;
    const deadline = Date.now() + timeoutMs;
    if (!this.localGoAway) {
      this.localGoAway = true;
      this.enqueueSmall(encodeGoAway(reason));
    }
    // The peer may have opened streams that cross our GOAWAY on the wire. A PING sent after the
    // GOAWAY is answered only once the peer has read it, and the transport keeps order, so when
    // the answer arrives every stream the peer will ever open on us has arrived too. Closing
    // before that would fail those streams instead of refusing them (retryable).
    this.ping();
    await this.until(['rtt'], deadline);
    if (this.streams.size > 0) await this.until(['idle'], deadline);
  }

  /** Resolves on the first of `events`, on close, or at `deadline` (ms since epoch). */
  private until(events: string[], deadline: number): Promise<void> {
    if (this.closedWith !== undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const e of [...events, 'close']) this.off(e, done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      for (const e of [...events, 'close']) this.on(e, done);
    });
  }

  /** Closes the session: flushes what is queued, fails open streams, closes the transport. */
  close(): void {
    if (this.closedWith !== undefined) return;
    this.flush();
    this.destroy();
  }

  /** Tears the session down now; open streams fail with `err` (or a session-closed error). */
  destroy(err?: TunnelError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err ?? null;
    if (this.pingTimer) clearInterval(this.pingTimer);
    clearTimeout(this.idleTimer);
    const streamErr = err ?? new SessionClosedError('TUN_ERR_SESSION_CLOSED');
    for (const stream of this.streams.values()) stream.handleSessionClosed(streamErr);
    this.streams.clear();
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
    // What was queued is never sent: its buffers are free again.
    this.queue = [];
    endLeases(this.queuedLeases.splice(0));
    // 1006: the link is dead, so no close handshake can complete; 1002: the peer broke the protocol.
    const code = !err ? 1000 : err.code === 'TUN_ERR_IDLE_TIMEOUT' ? 1006 : 1002;
    this.transport.close(code, err ? err.code : 'closed');
    this.emit('close', err);
  }

  // ---- StreamHost -------------------------------------------------------------------------

  /** @internal */
  sendData(streamId: number, payload: Buffer, fin: boolean): void {
    const flags = fin ? FrameFlag.FIN : 0;
    if (payload.length < COPY_THRESHOLD) {
      this.enqueueSmall(encodeFrame(FrameType.DATA, flags, streamId, payload));
    } else {
      this.enqueueSmall(encodeHeader(FrameType.DATA, flags, streamId, payload.length));
      this.enqueueLarge(payload);
    }
  }

  /** @internal */
  sendReply(streamId: number, head: ResponseHead, fin: boolean): void {
    this.enqueueSmall(encodeFrame(FrameType.REPLY, fin ? FrameFlag.FIN : 0, streamId, encodeResponseHead(head)));
  }

  /** @internal */
  sendWindow(streamId: number, increment: number): void {
    this.enqueueSmall(encodeWindow(streamId, increment));
  }

  /** @internal */
  sendReset(streamId: number, reason: number): void {
    if (this.closedWith !== undefined) return;
    this.enqueueSmall(encodeReset(streamId, reason));
  }

  /** @internal */
  whenWritable(cb: () => void): void {
    if (!this.congested || this.closedWith !== undefined) cb();
    else this.writableWaiters.push(cb);
  }

  /** @internal */
  streamClosed(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.streams.delete(streamId);
    if ((streamId & 1) !== (this.nextId & 1)) this.remoteOpen--;
    if (this.streams.size === 0) this.emit('idle');
  }

  // ---- internals ---------------------------------------------------------------------------

  private handleFrame(frame: Frame): void {
    if (this.traceOn)
      this.log.trace({ type: frame.type, stream: frame.streamId, flags: frame.flags, bytes: frame.payload.length }, 'frame in');
    const fin = (frame.flags & FrameFlag.FIN) !== 0 && frame.more !== true;
    switch (frame.type) {
      case FrameType.DATA: {
        const stream = this.streams.get(frame.streamId);
        if (stream) stream.handleData(frame.payload, fin);
        else if (!fin && frame.more !== true) this.reply(encodeReset(frame.streamId, ResetCode.CANCEL));
        return;
      }
      case FrameType.OPEN:
        this.handleOpen(frame, fin);
        return;
      case FrameType.REPLY: {
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
        return;
      }
      case FrameType.WINDOW:
        this.streams.get(frame.streamId)?.handleWindow(frame.payload.readUInt32BE(0));
        return;
      case FrameType.RESET:
        this.streams.get(frame.streamId)?.handleReset(frame.payload.readUInt32BE(0));
        return;
      case FrameType.PING:
        if (frame.flags & FrameFlag.ACK) {
          if (frame.payload.readBigUInt64BE(0) === this.pingSentAt && this.pingSentAt !== 0n) {
            this.rttMs = Number(process.hrtime.bigint() - this.pingSentAt) / 1e6;
            this.emit('rtt', this.rttMs);
          }
        } else {
          this.reply(encodePing(Buffer.from(frame.payload), true));
        }
        return;
      case FrameType.GOAWAY:
        if (!this.remoteGoAway) {
          this.remoteGoAway = true;
          this.emit('goaway', frame.payload.readUInt32BE(0));
        }
        return;
      case FrameType.PEERS:
        // A malformed set throws a ProtocolError: receive() closes the session with it.
        this.emit('peers', decodePeers(frame.payload));
        return;
    }
  }

  private handleOpen(frame: Frame, fin: boolean): void {
    const id = frame.streamId;
    if ((id & 1) === (this.nextId & 1) || id <= this.lastRemoteId) {
      throw new ProtocolError('TUN_ERR_PROTOCOL', `peer opened stream ${id} out of order`);
    }
    this.lastRemoteId = id;
    if (this.localGoAway || this.remoteOpen >= this.limits.maxStreams || !this.onStream) {
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
    const stream = new TunnelStream(this, id, head, { sendWindow: this.limits.streamWindow, recvWindow: this.limits.streamWindow });
    this.streams.set(id, stream);
    this.remoteOpen++;
    this.streamsOpened++;
    if (fin) stream.handleData(EMPTY, true);
    this.onStream(stream);
  }

  private keepAlive(): void {
    this.ping();
  }

  private checkIdle(): void {
    if (this.closedWith !== undefined) return;
    const silent = Date.now() - this.lastHeardAt;
    if (silent >= this.limits.idleTimeoutMs) {
      this.log.warn({ idleMs: silent }, 'peer silent too long: closing session');
      this.destroy(new SessionClosedError('TUN_ERR_IDLE_TIMEOUT'));
      return;
    }
    // Heard from since: aim at idleTimeoutMs after the last byte.
    this.idleTimer = setTimeout(() => this.checkIdle(), this.limits.idleTimeoutMs - silent);
    this.idleTimer.unref();
  }

  /**
   * Queues a reply the peer asked for (a PING answer, a RESET for a stream it cannot have),
   * bounded by {@link ReplyBacklog}: past maxQueuedReplies owed to a peer that does not read,
   * the transport is no longer read until it drains, and what is owed meanwhile is dropped.
   */
  private reply(frame: Buffer): void {
    if (this.closedWith !== undefined) return;
    const congested = this.transport.bufferedBytes + this.queuedSmallBytes >= this.limits.transportHighWaterMark;
    const verdict = this.replies.due(congested);
    if (verdict === 'drop') return;
    this.enqueueSmall(frame);
    if (verdict === 'pause') {
      this.log.warn(
        { owed: this.limits.maxQueuedReplies, buffered: this.transport.bufferedBytes },
        'peer asks for replies without reading them: not reading it until it catches up',
      );
      this.transport.pause();
      // The transport promises a drain only after a write it called full: flush now so one comes.
      this.flush();
      if (!this.congested && this.transport.bufferedBytes < this.limits.transportHighWaterMark) this.resumeReads();
    }
  }

  private resumeReads(): void {
    if (!this.replies.full) return;
    this.replies.drained();
    this.transport.resume();
  }

  private enqueueSmall(buf: Buffer): void {
    this.queuedSmall.push(buf);
    this.queuedSmallBytes += buf.length;
    this.scheduleFlush();
  }

  private enqueueLarge(buf: Buffer): void {
    this.sealSmall();
    const release = leaseReadBuffer(buf);
    if (release) this.queuedLeases.push(release);
    this.queue.push(buf);
    this.scheduleFlush();
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
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closedWith !== undefined) return;
    this.sealSmall();
    if (this.queue.length === 0) return;
    const chunks = this.queue;
    this.queue = [];
    for (const c of chunks) this.bytesOut += c.length;
    const leases = this.queuedLeases;
    this.queuedLeases = [];
    const ok = this.transport.write(chunks, leases.length > 0 ? () => endLeases(leases) : undefined);
    // Pause only when the transport said it is full (only then does it promise a `drain`) AND
    // more than transportHighWaterMark is queued: a socket's own mark (16 KiB) would stall every
    // stream once per flush; ours keeps the pipe full while still bounding memory.
    if (!ok && this.transport.bufferedBytes >= this.limits.transportHighWaterMark) this.congested = true;
  }

  private handleDrain(): void {
    if (this.transport.bufferedBytes > this.limits.transportHighWaterMark) return;
    this.resumeReads();
    this.congested = false;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }
}
