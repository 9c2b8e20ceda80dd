export { webSocketTransport, type WebSocketLike } from './websocket.ts';
