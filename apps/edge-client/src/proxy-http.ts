import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ResetCode,
  hostOf,
  responseHeadersToTunnel,
  type HttpRequestHead,
  type Logger,
  type TunnelStream,
} from '@tunnel/tunnel-protocol';
import type { Upstreams } from './upstreams.ts';

/** Settings of the upstream side. */
export interface ProxyOptions {
  /** Give up connecting to an upstream after this long, ms. */
  readonly connectTimeoutMs: number;
}

/** True when the request asks to switch protocols (WebSocket). */
function isUpgrade(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].length === 7 && headers[i].toLowerCase() === 'upgrade') return true;
  return false;
}

const NO_UPSTREAM = 'no upstream is configured on this edge client for this host\n';

/**
 * Serves one HTTP stream: replays the request to the matching upstream over a pooled
 * keep-alive connection and streams the response back. Upgrades (WebSocket) become raw pipes.
 */
export function proxyHttp(stream: TunnelStream, head: HttpRequestHead, upstreams: Upstreams, opts: ProxyOptions, log: Logger): void {
  const started = performance.now();
  const host = hostOf(head.authority);
  const target = upstreams.match(host);
  if (!target) {
    stream.reply({ status: 404, statusMessage: '', headers: ['content-type', 'text/plain; charset=utf-8', 'content-length', String(NO_UPSTREAM.length)] });
    stream.end(NO_UPSTREAM);
    stream.resume();
    log.info({ method: head.method, host, path: head.target, status: 404 }, 'no upstream for host');
    return;
  }
  const headers = head.headers.slice();
  if (head.authority) headers.push('Host', head.authority);
  const req: ClientRequest = (target.secure ? httpsRequest : httpRequest)({
    protocol: target.url.protocol,
    hostname: target.url.hostname,
    port: target.url.port || (target.secure ? 443 : 80),
    method: head.method,
    path: target.basePath + head.target,
    headers: headers as unknown as Record<string, string>,
    setHost: false,
    agent: target.agent,
  });
  let connectTimer: NodeJS.Timeout | undefined;
  req.once('socket', (socket: Socket) => {
    if (socket.connecting) {
      connectTimer = setTimeout(() => req.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' })), opts.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    }
  });
  const logDone = (status: number) =>
    log.debug({ method: head.method, host, path: head.target, status, ms: Math.round((performance.now() - started) * 10) / 10 }, 'upstream request');

  req.once('response', (res: IncomingMessage) => {
    clearTimeout(connectTimer);
    const status = res.statusCode ?? 502;
    stream.reply({ status, statusMessage: res.statusMessage ?? '', headers: responseHeadersToTunnel(res.rawHeaders, status) });
    res.pipe(stream);
    res.once('error', () => stream.reset(ResetCode.UPSTREAM_UNREACHABLE));
    res.once('end', () => logDone(status));
  });
  req.once('upgrade', (res: IncomingMessage, socket: Socket, rest: Buffer) => {
    clearTimeout(connectTimer);
    stream.reply({ status: 101, statusMessage: res.statusMessage ?? '', headers: responseHeadersToTunnel(res.rawHeaders, 101) });
    if (rest.length > 0) stream.write(rest);
    socket.pipe(stream);
    stream.pipe(socket);
    socket.on('error', () => stream.reset(ResetCode.CANCEL));
    stream.on('error', () => socket.destroy());
    logDone(101);
  });
  req.once('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    if (stream.destroyed) return;
    if (!stream.hasReplied) {
      const reason = err.code === 'ETIMEDOUT' ? ResetCode.UPSTREAM_TIMEOUT : ResetCode.UPSTREAM_UNREACHABLE;
      log.warn({ method: head.method, host, path: head.target, upstream: target.url.origin, err: err.code ?? err.message }, 'upstream request failed');
      stream.reset(reason);
    } else {
      stream.reset(ResetCode.UPSTREAM_UNREACHABLE);
    }
  });
  stream.once('error', () => {
    clearTimeout(connectTimer);
    // Reset by the exit server (public client gone, timeout): stop the upstream request.
    req.destroy();
  });
  if (isUpgrade(head.headers)) {
    // The bytes after the head belong to the upgraded connection, piped in on 'upgrade'.
    req.end();
  } else if (stream.remoteEnded && stream.readableLength === 0) {
    req.end();
    stream.resume();
  } else {
    stream.pipe(req);
  }
}
