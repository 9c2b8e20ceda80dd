import type { Server } from 'node:http';

/** How often node looks for connections past their header deadline at most, ms. */
const MAX_CHECK_INTERVAL_MS = 500;
/** How often node looks at least, ms: a shorter sweep costs more than it gains. */
const MIN_CHECK_INTERVAL_MS = 10;
/** Sweeps per deadline (count): the deadline is then enforced to within a quarter of itself. */
const CHECKS_PER_DEADLINE = 4;
/** The whole handshake request may take this many head deadlines (count): a body is not part of a handshake. */
const REQUEST_DEADLINES_PER_HEAD = 2;

/**
 * Makes an HTTP server (the control port) close a connection whose request head (the edge
 * client's upgrade request) has not arrived within `timeoutMs` of connecting, to within half a
 * second. Node enforces `headersTimeout` only when its periodic sweep runs, every 30 s by
 * default: a half-open connection given 3 s then lived 26-28 s. The sweep interval is read when
 * the server starts listening, so this must be called before `listen`.
 */
export function enforceHandshakeDeadline(server: Server, timeoutMs: number): void {
  server.headersTimeout = timeoutMs;
  server.requestTimeout = timeoutMs * REQUEST_DEADLINES_PER_HEAD;
  // A constructor option in node's typings, but read from the instance when listening starts
  // (setupConnectionsTracking), which is the only hook a Fastify-made server leaves us.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    MIN_CHECK_INTERVAL_MS,
    Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(timeoutMs / CHECKS_PER_DEADLINE)),
  );
}
