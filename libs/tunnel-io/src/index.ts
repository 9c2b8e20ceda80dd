// Node I/O for the protocol core (@tunnel/tunnel-protocol): Node's clock, pooled socket reads, the raw WebSocket transport, pipes between sockets and tunnel streams.
export {
  onreadThrough,
  ReadBufferPool,
  readPoolFor,
  type PooledReader,
  type ReadBufferPoolOptions,
  type ReadBufferPoolStats,
  type ReadBufferSettings,
} from './read-pool.ts';
export { readAcceptedIntoPool, readIntoPool, type PooledSocket } from './pooled-socket.ts';
export { rawWebSocketTransport, type RawSocketLike, type RawWebSocketOptions } from './raw-websocket.ts';
export {
  encodeWsClosePayload,
  encodeWsControl,
  encodeWsHeader,
  isValidCloseCode,
  readClosePayload,
  WsFrameDecoder,
  WsOpcode,
  type WsFrameHandlers,
} from './ws-codec.ts';
export { isWebSocketKey, newWebSocketKey, webSocketAccept } from './ws-handshake.ts';
export {
  LEASE_WHILE_UNWRITTEN_BELOW,
  pipeToSocket,
  SINK_SOCKET_HIGH_WATER_MARK,
  writeLeased,
  type CorkableSocketLike,
} from './pipe-to-socket.ts';
export { pipeToStream, type PausableSocketLike } from './pipe-to-stream.ts';
export { tickCorker, type CorkLike } from './tick-cork.ts';
export { NODE_INTERNALS_WARNING_CODE } from './socket-internals.ts';
export { systemClock } from './system-clock.ts';
