import { ProtocolError, SessionClosedError } from './errors.ts';
import type { TunnelStream } from './stream.ts';

/** Largest stream id a side may open: ids step by 2, and 0xffffffff would overflow the next step. */
export const MAX_OPEN_STREAM_ID = 0xfffffffd;

/**
 * The streams of one session and the id rules: the server role opens even ids, the client role
 * odd ones; each side's ids strictly increase and are never reused; the peer may hold at most
 * `maxStreams` streams it opened.
 */
export class StreamTable {
  /** Streams opened by either side since the start. */
  opened = 0;

  private readonly streams = new Map<number, TunnelStream>();
  private readonly maxStreams: number;
  private nextId: number;
  private lastRemoteId = 0;
  private remoteOpen = 0;

  /** @param maxStreams Most streams the peer may open on us at once, count. */
  constructor(role: 'client' | 'server', maxStreams: number) {
    this.nextId = role === 'client' ? 1 : 2;
    this.maxStreams = maxStreams;
  }

  /** Streams currently open. */
  get size(): number {
    return this.streams.size;
  }

  /** True when the peer holds as many streams it opened as it may: its next OPEN is refused. */
  get remoteFull(): boolean {
    return this.remoteOpen >= this.maxStreams;
  }

  /** The open stream with this id. */
  get(id: number): TunnelStream | undefined {
    return this.streams.get(id);
  }

  /** The open streams. */
  values(): IterableIterator<TunnelStream> {
    return this.streams.values();
  }

  /** The id for the next stream we open; throws {@link SessionClosedError} once ids are exhausted. */
  takeLocalId(): number {
    const id = this.nextId;
    if (id > MAX_OPEN_STREAM_ID) throw new SessionClosedError('TUN_ERR_GOING_AWAY', 'stream ids exhausted');
    this.nextId += 2;
    return id;
  }

  /** Checks and records the id of a stream the peer opens; throws {@link ProtocolError} on a wrong parity or order. */
  takeRemoteId(id: number): void {
    if (this.isLocal(id) || id <= this.lastRemoteId) {
      throw new ProtocolError('TUN_ERR_PROTOCOL', `peer opened stream ${id} out of order`);
    }
    this.lastRemoteId = id;
  }

  /** Adds a new stream, opened by either side. */
  add(stream: TunnelStream): void {
    this.streams.set(stream.id, stream);
    if (!this.isLocal(stream.id)) this.remoteOpen++;
    this.opened++;
  }

  /** Forgets a stream; false when it was not there. */
  delete(id: number): boolean {
    if (!this.streams.delete(id)) return false;
    if (!this.isLocal(id)) this.remoteOpen--;
    return true;
  }

  /** Forgets every stream (the session closed). */
  clear(): void {
    this.streams.clear();
  }

  private isLocal(id: number): boolean {
    return (id & 1) === (this.nextId & 1);
  }
}
