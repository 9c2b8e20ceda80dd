import type { Server } from 'node:http';

/** How often node looks for connections past their header deadline at most, ms. */
const MAX_CHECK_INTERVAL_MS = 500;

/**
 * Makes an HTTP server (the control port) close a connection whose request head (the edge
 * client's upgrade request) has not arrived within `timeoutMs` of connecting, to within half a
 * second. Node enforces `headersTimeout` only when its periodic sweep runs, every 30 s by
 * default: a half-open connection given 3 s then lived 26-28 s. The sweep interval is read when
 * the server starts listening, so this must be called before `listen`.
 */
export function enforceHandshakeDeadline(server: Server, timeoutMs: number): void {
  server.headersTimeout = timeoutMs;
  // A request body is not part of a handshake: the whole request gets twice the head's time.
  server.requestTimeout = timeoutMs * 2;
  // A constructor option in node's typings, but read from the instance when listening starts
  // (setupConnectionsTracking), which is the only hook a Fastify-made server leaves us.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    10,
    Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(timeoutMs / 4)),
  );
}
