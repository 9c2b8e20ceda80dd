import { ResetCode, hostOf, pipeToSocket, pipeToStream, type HttpRequestHead, type Logger, type ReadBufferPool, type TunnelStream } from '@tunnel/tunnel-protocol';
import { dialTarget } from './dial-target.ts';
import type { Upstreams } from './upstreams.ts';

/** Settings of the upstream side. */
export interface ProxyOptions {
  /** Give up connecting to an upstream after this long, ms. */
  readonly connectTimeoutMs: number;
  /** Pooled read buffers for plain-TCP upstreams; without it each read allocates. */
  readonly readPool?: ReadBufferPool;
}

const NO_UPSTREAM = 'no upstream is configured on this edge client for this host\n';
const NOT_FOUND =
  'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `content-length: ${NO_UPSTREAM.length}\r\nconnection: close\r\n\r\n${NO_UPSTREAM}`;

/**
 * Serves one HTTP stream: one public connection, carried to one connection to the matching
 * upstream. The exit server already parsed and re-headed every request, so the bytes go through
 * as they are, both ways, with half-close; nothing is parsed or copied here.
 */
export function proxyHttp(stream: TunnelStream, head: HttpRequestHead, upstreams: Upstreams, opts: ProxyOptions, log: Logger): void {
  const host = hostOf(head.authority);
  const target = upstreams.match(host);
  if (!target) {
    stream.resume();
    stream.end(NOT_FOUND);
    log.info({ method: head.method, host, path: head.target, status: 404 }, 'no upstream for host');
    return;
  }
  if (target.open >= upstreams.maxSockets) {
    // REFUSED: the exit server retries a bodiless request on another client, else answers 503.
    log.warn({ upstream: target.url.origin, open: target.open }, 'upstream connection limit reached (--max-upstream-sockets)');
    stream.reset(ResetCode.REFUSED);
    return;
  }
  target.open++;
  const socket = dialTarget(
    { host: target.host, port: target.port, secure: target.secure, connectTimeoutMs: opts.connectTimeoutMs, readPool: opts.readPool },
    {
      connected: () => {
        // Pipes only now: bytes that came before the connection stay buffered in the stream.
        pipeToSocket(stream, socket);
        pipeToStream(socket, stream);
      },
      failed: (err, reset) => {
        if (stream.destroyed) return;
        log.warn({ method: head.method, host, path: head.target, upstream: target.url.origin, err: err.code ?? err.message }, 'upstream request failed');
        stream.reset(reset);
      },
      lost: () => {
        if (!stream.destroyed) stream.reset(ResetCode.UPSTREAM_UNREACHABLE);
      },
    },
  );
  socket.once('close', () => {
    target.open--;
    // Closed without ending our half (a reset upstream): the stream must not hang open.
    if (!stream.destroyed && !stream.writableEnded) stream.reset(ResetCode.UPSTREAM_UNREACHABLE);
  });
  stream.on('error', () => {
    if (!socket.destroyed) socket.destroy();
  });
}
