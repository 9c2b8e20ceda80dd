import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { unbracketHost, urlPort } from '@tunnel/config';
import { ERROR_HEADER } from '@tunnel/tunnel-protocol';
import { newWebSocketKey, webSocketAccept } from '@tunnel/tunnel-io';
import { parseRetryAfter } from './retry-after.ts';
import { EDGE_CLIENT_USER_AGENT } from './user-agent.ts';

/** Characters of a refusal's body kept (the server's error text; the rest is dropped). */
const MAX_REFUSAL_BODY_CHARS = 1024;

/** The outcome of a WebSocket handshake with the exit server. */
export type DialResult =
  /** Upgraded: the socket now carries WebSocket frames; `head` are bytes that came with the 101. */
  | { readonly kind: 'open'; readonly socket: Socket; readonly head: Buffer; readonly response: IncomingMessage }
  /**
   * The server answered without upgrading (401 wrong token, 400 bad hello, 503 draining or
   * full...); `retryAfterS` is its Retry-After in seconds, when it sent a readable one.
   */
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly body: string; readonly retryAfterS?: number };

/** A {@link DialResult} of a server that answered without upgrading. */
export type DialRefusal = Extract<DialResult, { kind: 'refused' }>;

/** Settings of {@link dial}. */
export interface DialOptions {
  /** Extra request headers (authorization, hello). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra CA certificate(s) to trust for wss://. */
  readonly ca?: Buffer;
  /** Cipher list to offer on wss:// (node's `ciphers`); node's default when undefined. */
  readonly ciphers?: string;
  /** Give up when the handshake has not completed within this long, ms. */
  readonly timeoutMs: number;
}

/** A handle to abort a dial in progress. */
export interface Dialing {
  /** Settles with the handshake's outcome; rejects on network errors and timeouts. */
  readonly result: Promise<DialResult>;
  /** Aborts the handshake. */
  abort(): void;
}

/**
 * Opens a WebSocket to `url` (ws:// or wss://) by hand: a GET with Upgrade, then a check of
 * `Sec-WebSocket-Accept`. The socket is handed over raw, so the session frames it itself. The
 * request carries `User-Agent: tunnel-edge-client/<version>` (see user-agent.ts).
 */
export function dial(url: URL, opts: DialOptions): Dialing {
  const key = newWebSocketKey();
  const secure = url.protocol === 'wss:';
  const req: ClientRequest = (secure ? httpsRequest : httpRequest)({
    hostname: unbracketHost(url.hostname),
    port: urlPort(url),
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    agent: false,
    headers: {
      // Before the caller's headers so a test or an embedding app can name itself instead.
      'User-Agent': EDGE_CLIENT_USER_AGENT,
      ...opts.headers,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
    },
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
  });
  const result = new Promise<DialResult>((resolve, reject) => {
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('handshake timed out'), { code: 'ETIMEDOUT' })), opts.timeoutMs);
    req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      const upgrade = String(res.headers.upgrade ?? '').toLowerCase();
      if (res.statusCode !== 101 || upgrade !== 'websocket' || res.headers['sec-websocket-accept'] !== webSocketAccept(key)) {
        socket.destroy();
        reject(new Error('the server did not complete the WebSocket handshake (bad Sec-WebSocket-Accept)'));
        return;
      }
      resolve({ kind: 'open', socket, head, response: res });
    });
    req.once('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < MAX_REFUSAL_BODY_CHARS) body += d;
      });
      res.on('end', () =>
        resolve({
          kind: 'refused',
          status: res.statusCode ?? 0,
          code: (res.headers[ERROR_HEADER] as string | undefined) ?? 'unknown',
          body,
          retryAfterS: parseRetryAfter(res.headers['retry-after']),
        }),
      );
      res.on('error', reject);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  req.end();
  return { result, abort: () => req.destroy() };
}
