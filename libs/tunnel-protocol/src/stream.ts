import { Duplex } from 'node:stream';
import { ProtocolError, ResetCode, StreamResetError, type TunnelError } from './errors.ts';
import type { OpenHead, ResponseHead } from './head.ts';
import { ownBytes, type Borrowed } from './borrowed.ts';
import {
  isStreamFault,
  isStreamFinished,
  nextReplyState,
  nextStreamState,
  peerMaySend,
  ReplyEvent,
  ReplyState,
  StreamEvent,
  streamFaultError,
  StreamState,
  weMaySend,
  type ReplyStateValue,
  type StreamEventValue,
  type StreamFaultValue,
  type StreamStateValue,
} from './stream-state.ts';

function ignoreError(): void {}

/** Bytes each side of a stream's Duplex buffers before it pushes back on its user (Node's readable/writable highWaterMark). */
const STREAM_BUFFER_BYTES = 64 * 1024;
/** Received credit is returned in one WINDOW once this fraction of the window is owed: fewer frames, no stall. */
const GRANT_FRACTION = 1 / 4;
/** Largest send credit a WINDOW may leave a stream with (2^31-1, as HTTP/2): more is a FLOW_CONTROL error. */
const MAX_SEND_CREDIT_BYTES = 0x7fffffff;

/** What a stream needs from its session; implemented by {@link Session}. */
export interface StreamHost {
  /** Largest DATA payload the peer accepts, in bytes. */
  readonly maxFrameBytes: number;
  /** Queues one DATA frame (payload not copied). */
  sendData(streamId: number, payload: Buffer, fin: boolean): void;
  /** Queues a REPLY frame. */
  sendReply(streamId: number, head: ResponseHead, fin: boolean): void;
  /** Queues a WINDOW frame granting `increment` bytes. */
  sendWindow(streamId: number, increment: number): void;
  /** Queues a RESET frame. */
  sendReset(streamId: number, reason: number): void;
  /** Calls `cb` now if the transport can take more, else once it drains. */
  whenWritable(cb: () => void): void;
  /** The stream is finished both ways or reset; forget it. */
  streamClosed(streamId: number): void;
}

/** Takes a stream's received bytes straight from the session (see {@link TunnelStream.setSink}). */
export interface StreamSink {
  /**
   * Bytes received, in order, {@link Borrowed}: valid only during this call; to keep them longer,
   * `ownBytes` or `leaseBytes` (the type does not let them be kept otherwise). Returns false when
   * the consumer is full: the peer then gets no more credit until `sinkDrained()`.
   */
  write(chunk: Borrowed): boolean;
}

/** Flow-control settings of one stream. */
export interface StreamWindows {
  /** Credit the peer gave us at open, in bytes. */
  readonly sendWindow: number;
  /** Credit we gave the peer at open, in bytes (our receive window). */
  readonly recvWindow: number;
}

/**
 * One multiplexed stream: a Node Duplex whose writes become DATA frames and whose readable side
 * yields the peer's DATA. Each direction is bounded by a credit window, so a slow reader stalls
 * only its own stream, never the connection.
 */
export class TunnelStream extends Duplex {
  /** Stream id (odd: opened by the client role, even: by the server role). */
  readonly id: number;
  /** What the opener sent (request head); set on both ends. */
  readonly head: OpenHead;
  /** The peer's REPLY head once it arrived (opener side). */
  response: ResponseHead | undefined;
  /** Bytes of payload received on this stream. */
  bytesIn = 0;
  /** Bytes of payload sent on this stream. */
  bytesOut = 0;

  private readonly host: StreamHost;
  private sendCredit: number;
  private recvCredit: number;
  /** Received bytes consumed but not yet returned to the peer as credit. */
  private owed = 0;
  /** Owed bytes that make a WINDOW worth sending. */
  private readonly grantAtBytes: number;
  private pendingChunk: Buffer | null = null;
  private pendingCb: ((err?: Error | null) => void) | null = null;
  /** Where the stream is in its lifecycle (see stream-state.ts); replaces FIN and done flags. */
  private state: StreamStateValue = StreamState.OPEN;
  /** Whether the one REPLY of the stream went out or came in. */
  private replyState: ReplyStateValue = ReplyState.AWAITING;
  private sink: StreamSink | undefined;
  private sinkFull = false;

  constructor(host: StreamHost, id: number, head: OpenHead, windows: StreamWindows) {
    super({ allowHalfOpen: true, readableHighWaterMark: STREAM_BUFFER_BYTES, writableHighWaterMark: STREAM_BUFFER_BYTES });
    this.host = host;
    this.id = id;
    this.head = head;
    this.sendCredit = windows.sendWindow;
    this.recvCredit = windows.recvWindow;
    this.grantAtBytes = windows.recvWindow * GRANT_FRACTION;
    // A reset or a lost session must never crash the process through an 'error' event nobody
    // listens to (a stream already answered 404, a refused TCP port...). Consumers that care
    // still get the error through their own listener, and `destroyed`/'close' as usual.
    this.on('error', ignoreError);
  }

  /** Where the stream is in its lifecycle (see {@link StreamState}). */
  get lifecycle(): StreamStateValue {
    return this.state;
  }

  /** True once this side has sent its REPLY (responder side). */
  get hasReplied(): boolean {
    return this.replyState === ReplyState.SENT;
  }

  /**
   * Sends the response head (responder side). With `fin`, no body follows and the writable side
   * is ended as well. A second call, or one on a finished stream, is ignored.
   */
  reply(head: ResponseHead, fin = false): void {
    const next = nextReplyState(this.replyState, ReplyEvent.SEND_REPLY);
    if (next === this.replyState || isStreamFault(next) || isStreamFinished(this.state)) return;
    this.replyState = next;
    // A FIN already sent (end() before reply) is not sent twice: the peer would reset the stream.
    const finNow = fin && weMaySend(this.state);
    this.host.sendReply(this.id, head, finNow);
    if (finNow) this.move(StreamEvent.SEND_FIN);
    if (fin) this.end();
  }

  /**
   * Hands received bytes to `sink` from now on instead of the readable side, which still ends
   * (for 'end' listeners) but carries no data: no stream machinery per chunk, and borrowed read
   * buffers reach a consumer that leases what it keeps. Bytes buffered so far go first.
   */
  setSink(sink: StreamSink): void {
    for (let c = this.read() as Buffer | null; c !== null; c = this.read() as Buffer | null) {
      if (!sink.write(c)) this.sinkFull = true;
    }
    this.sink = sink;
    this.resume();
  }

  /** The sink can take more again: releases the credit withheld since it said it was full. */
  sinkDrained(): void {
    this.sinkFull = false;
    if (this.owed > 0) this.grant();
  }

  /** Session: the OPEN frame carried FIN, so our half is already ended on the wire. */
  endedByOpen(): void {
    this.move(StreamEvent.SEND_FIN);
    this.end();
  }

  /** Aborts the stream in both directions and tells the peer why ({@link ResetCode}). */
  reset(reason: number = ResetCode.CANCEL, err?: Error): void {
    if (isStreamFinished(this.state)) return;
    this.host.sendReset(this.id, reason);
    this.move(StreamEvent.SEND_RESET);
    this.destroy(err ?? new StreamResetError(reason, `stream ${this.id} reset locally`));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const fault = this.move(StreamEvent.WRITE);
    if (fault) {
      cb(streamFaultError(fault, this.id));
      return;
    }
    this.pendingChunk = chunk;
    this.pendingCb = cb;
    this.pump();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (weMaySend(this.state)) {
      this.host.sendData(this.id, Buffer.alloc(0), true);
      this.move(StreamEvent.SEND_FIN);
    }
    cb();
  }

  override _read(): void {
    // The consumer caught up: whatever we withheld while its buffer was full is now free.
    if (this.owed > 0 && !this.sinkFull) this.grant();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!isStreamFinished(this.state)) {
      // Destroyed locally before both halves finished (the consumer went away): tell the peer.
      this.host.sendReset(this.id, ResetCode.CANCEL);
      this.move(StreamEvent.SEND_RESET);
    }
    const pending = this.pendingCb;
    this.pendingCb = null;
    this.pendingChunk = null;
    if (pending) pending(err ?? new StreamResetError(ResetCode.CANCEL));
    cb(err);
  }

  /** Session: DATA arrived for this stream. */
  handleData(payload: Borrowed, fin: boolean): void {
    const fault = this.move(StreamEvent.RECV_DATA);
    if (fault) {
      this.fail(fault);
      return;
    }
    // Reset under us while handing on an earlier piece: nothing left to take it.
    if (isStreamFinished(this.state)) return;
    const n = payload.length;
    if (n > this.recvCredit) {
      this.reset(ResetCode.FLOW_CONTROL, new ProtocolError('TUN_ERR_FLOW_CONTROL', `stream ${this.id} overran its window`));
      return;
    }
    if (n > 0) {
      this.recvCredit -= n;
      this.bytesIn += n;
      this.owed += n;
      // Credit right away while the consumer keeps up; withhold it (bounding memory to
      // the window) while its buffer is full, and release it in _read or sinkDrained.
      if (this.sink) {
        if (!this.sink.write(payload)) this.sinkFull = true;
        if (!this.sinkFull && this.owed >= this.grantAtBytes) this.grant();
      } else if (this.push(ownBytes(payload)) && this.owed >= this.grantAtBytes) {
        // (A borrowed read buffer is copied: the readable side keeps what its consumer has not read.)
        this.grant();
      }
    }
    if (fin) {
      this.move(StreamEvent.RECV_FIN);
      this.push(null);
    }
  }

  /** Session: REPLY arrived (opener side). */
  handleReply(head: ResponseHead, fin: boolean): void {
    const next = nextReplyState(this.replyState, ReplyEvent.RECV_REPLY);
    if (isStreamFault(next)) {
      this.fail(next);
      return;
    }
    this.replyState = next;
    this.response = head;
    this.emit('response', head);
    if (fin) this.handleData(Buffer.alloc(0), true);
  }

  /** Session: WINDOW arrived. */
  handleWindow(increment: number): void {
    this.sendCredit += increment;
    if (this.sendCredit > MAX_SEND_CREDIT_BYTES) {
      this.reset(ResetCode.FLOW_CONTROL, new ProtocolError('TUN_ERR_FLOW_CONTROL', `stream ${this.id} window overflow`));
      return;
    }
    if (this.pendingChunk) this.pump();
  }

  /** Session: RESET arrived. */
  handleReset(reason: number): void {
    if (isStreamFinished(this.state)) return;
    this.move(StreamEvent.RECV_RESET);
    this.destroy(new StreamResetError(reason));
  }

  /** Session: the whole session ended. */
  handleSessionClosed(err: TunnelError): void {
    if (isStreamFinished(this.state)) return;
    this.move(StreamEvent.SESSION_CLOSED);
    this.destroy(err);
  }

  /** A fault from the peer resets the stream with PROTOCOL and fails it with the fault's error. */
  private fail(fault: StreamFaultValue): void {
    this.reset(ResetCode.PROTOCOL, streamFaultError(fault, this.id));
  }

  private grant(): void {
    const n = this.owed;
    this.owed = 0;
    this.recvCredit += n;
    if (peerMaySend(this.state)) this.host.sendWindow(this.id, n);
  }

  /** Sends as much of the pending chunk as credit allows; completes the write when all is out. */
  private pump(): void {
    let chunk = this.pendingChunk;
    if (!chunk) return;
    const max = this.host.maxFrameBytes;
    while (chunk.length > 0 && this.sendCredit > 0) {
      const n = Math.min(chunk.length, this.sendCredit, max);
      this.host.sendData(this.id, n === chunk.length ? chunk : chunk.subarray(0, n), false);
      this.sendCredit -= n;
      this.bytesOut += n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length > 0) {
      this.pendingChunk = chunk; // wait for WINDOW
      return;
    }
    const cb = this.pendingCb;
    this.pendingChunk = null;
    this.pendingCb = null;
    if (cb) this.host.whenWritable(() => cb());
  }

  /**
   * Applies `event` (see STREAM_TRANSITIONS) and tells the host once the stream has just
   * finished. Returns the fault instead when the table forbids the event; the state is kept.
   */
  private move(event: StreamEventValue): StreamFaultValue | undefined {
    const next = nextStreamState(this.state, event);
    if (next === this.state) return undefined;
    if (isStreamFault(next)) return next;
    const finishedNow = isStreamFinished(next) && !isStreamFinished(this.state);
    this.state = next;
    if (finishedNow) this.host.streamClosed(this.id);
    return undefined;
  }
}
