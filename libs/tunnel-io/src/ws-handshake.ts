import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64. */
export function newWebSocketKey(): string {
  return randomBytes(16).toString('base64');
}

/** The `Sec-WebSocket-Accept` value that proves a server read `key` (RFC 6455 4.2.2). */
export function webSocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** True for a well-formed `Sec-WebSocket-Key` (base64 of 16 bytes). */
export function isWebSocketKey(key: string | undefined): key is string {
  return typeof key === 'string' && /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}
