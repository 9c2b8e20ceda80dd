/** Limits and timings of one session. All sizes in bytes, all durations in milliseconds. */
export interface SessionLimits {
  /** Largest DATA payload in one frame, bytes. Default 64 KiB. */
  readonly maxFrameBytes: number;
  /** Largest encoded request/response head, bytes. Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Per-stream flow-control window, bytes: the most a stream buffers on the receiving side. Default 1 MiB: enough in flight to keep a large transfer moving through both event loops (256 KiB held 1 MiB downloads and 10 MB uploads ~20% lower here). */
  readonly streamWindow: number;
  /** Most concurrent streams the peer may open on us. Default 1024. */
  readonly maxStreams: number;
  /** Interval between keep-alive PINGs, ms; 0 disables pings. Default 10 s. */
  readonly pingIntervalMs: number;
  /** Silence after which the link is declared dead, ms; 0 disables. Default 30 s. */
  readonly idleTimeoutMs: number;
  /** Silence while the peer owes us something (a stream's answer, a PING's), then again after a probe PING, before it counts as unresponsive (a 'responsive' event), ms; 0 disables. Default 0: the exit server sets it. */
  readonly unresponsiveAfterMs: number;
  /** Transport bytes buffered before streams are paused, bytes. Default 1 MiB. */
  readonly transportHighWaterMark: number;
  /** Replies (PING answers, RESETs) owed to a peer while the write side is over transportHighWaterMark before the transport is no longer read, count. Default 256. */
  readonly maxQueuedReplies: number;
}

/** Defaults for {@link SessionLimits}. */
export const DEFAULT_LIMITS: SessionLimits = Object.freeze({
  maxFrameBytes: 64 * 1024,
  maxHeaderBytes: 16 * 1024,
  streamWindow: 1024 * 1024,
  maxStreams: 1024,
  pingIntervalMs: 10_000,
  idleTimeoutMs: 30_000,
  unresponsiveAfterMs: 0,
  transportHighWaterMark: 1024 * 1024,
  maxQueuedReplies: 256,
});
