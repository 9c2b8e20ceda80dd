import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ResetCode, hostOf, type HttpRequestHead, type Logger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { pipeToSocket, pipeToStream, type ReadBufferPool } from '@tunnel/tunnel-io';
import { dialTarget } from './dial-target.ts';
import { HttpWatch, type Exchange } from './http-watch.ts';
import { upstreamErrorKind, type EdgeMetrics, type UpstreamSeries } from './metrics/edge-metrics.ts';
import type { UpstreamTarget, Upstreams } from './upstreams.ts';

/** Settings of the upstream side. */
export interface ProxyOptions {
  /** Give up connecting to an upstream after this long, ms. */
  readonly connectTimeoutMs: number;
  /** Pooled read buffers for plain-TCP upstreams; without it each read allocates. */
  readonly readPool?: ReadBufferPool;
  /** Metrics to update; without them nothing is counted. */
  readonly metrics?: EdgeMetrics;
  /** The access log (one line per request); undefined = off. */
  readonly accessLog?: Logger;
}

/** The request target without its query string: queries may carry secrets, so no log gets them. */
function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** Counts and logs one exchange the watcher saw complete. */
function exchangeDone(e: Exchange, host: string, series: UpstreamSeries | undefined, opts: ProxyOptions): void {
  const firstByteMs = e.firstByte >= 0 ? e.firstByte - e.started : -1;
  if (series) opts.metrics?.exchange(series, e.status, firstByteMs);
  opts.accessLog?.info(
    {
      method: e.method,
      host,
      path: pathOf(e.target),
      status: e.status,
      bytesIn: e.bytesIn,
      bytesOut: e.bytesOut,
      ms: Math.round((performance.now() - e.started) * 10) / 10,
      upstream: series?.upstream,
      requestId: e.requestId,
    },
    'request',
  );
}

const NO_UPSTREAM = 'no upstream is configured on this edge client for this host\n';
const NOT_FOUND =
  'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `content-length: ${NO_UPSTREAM.length}\r\nconnection: close\r\n\r\n${NO_UPSTREAM}`;

/**
 * The upstream for `host` when it can take another connection; otherwise answers the stream
 * itself (404 for a host with no upstream, REFUSED at the connection limit) and returns undefined.
 */
function admitTarget(
  stream: TunnelStream,
  head: HttpRequestHead,
  host: string,
  upstreams: Upstreams,
  opts: ProxyOptions,
  log: Logger,
): UpstreamTarget | undefined {
  const target = upstreams.match(host);
  if (!target) {
    stream.resume();
    stream.end(NOT_FOUND);
    opts.metrics?.error('no_upstream');
    log.info({ method: head.method, host, path: head.target, status: 404 }, 'no upstream for host');
    return undefined;
  }
  if (target.open >= upstreams.maxSockets) {
    // REFUSED: the exit server retries a bodiless request on another client, else answers 503.
    log.warn({ upstream: target.url.origin, open: target.open }, 'upstream connection limit reached (--max-upstream-sockets)');
    opts.metrics?.error('limit');
    stream.reset(ResetCode.REFUSED);
    return undefined;
  }
  return target;
}

/** Pipes both ways once the upstream is connected; the watcher, if any, sees every byte. */
function pipeBoth(stream: TunnelStream, socket: Socket, watch: HttpWatch | undefined): void {
  // Pipes only now: bytes that came before the connection stay buffered in the stream.
  if (watch) {
    pipeToSocket(stream, socket, (chunk) => watch.request(chunk));
    socket.on('data', (chunk: Buffer) => watch.response(chunk));
  } else {
    pipeToSocket(stream, socket);
  }
  pipeToStream(socket, stream);
}

/**
 * Serves one HTTP stream: one public connection, carried to one connection to the matching
 * upstream. The exit server already parsed and re-headed every request, so the bytes go through
 * as they are, both ways, with half-close; nothing is parsed or copied here.
 */
export function proxyHttp(stream: TunnelStream, head: HttpRequestHead, upstreams: Upstreams, opts: ProxyOptions, log: Logger): void {
  const host = hostOf(head.authority);
  const target = admitTarget(stream, head, host, upstreams, opts, log);
  if (!target) return;
  target.open++;
  const series = opts.metrics?.upstream(target.url.origin);
  // Only looked at when someone wants the requests counted or logged.
  const watch =
    series || opts.accessLog
      ? new HttpWatch(
          (e) => exchangeDone(e, host, series, opts),
          (why) => log.debug({ why }, 'stopped following requests on this connection'),
        )
      : undefined;
  const dialStarted = performance.now();
  const socket = dialTarget(
    { host: target.host, port: target.port, secure: target.secure, connectTimeoutMs: opts.connectTimeoutMs, readPool: opts.readPool },
    {
      connected: () => {
        if (series) opts.metrics?.connected(series, performance.now() - dialStarted);
        pipeBoth(stream, socket, watch);
      },
      failed: (err, reset) => {
        opts.metrics?.error(upstreamErrorKind(err.code));
        if (stream.destroyed) return;
        log.warn(
          { method: head.method, host, path: head.target, upstream: target.url.origin, err: err.code ?? err.message },
          'upstream request failed',
        );
        stream.reset(reset);
      },
      lost: () => {
        opts.metrics?.error('lost');
        if (!stream.destroyed) stream.reset(ResetCode.UPSTREAM_UNREACHABLE);
      },
    },
  );
  socket.once('close', () => {
    target.open--;
    watch?.end();
    // Closed without ending our half (a reset upstream): the stream must not hang open.
    if (!stream.destroyed && !stream.writableEnded) stream.reset(ResetCode.UPSTREAM_UNREACHABLE);
  });
  stream.on('error', () => {
    if (!socket.destroyed) socket.destroy();
  });
}
