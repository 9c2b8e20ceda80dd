import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ResetCode,
  StreamResetError,
  hostOf,
  requestHeadersToTunnel,
  stripV4Mapped,
  withForwarded,
  type HttpRequestHead,
  type Logger,
  type ResponseHead,
  type TunnelStream,
} from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import { failureReply } from './errors-to-status.ts';
import type { Router } from './router.ts';

/** Settings of the public HTTP side. */
export interface PublicHttpOptions {
  /** Wait this long for the response head before answering 504, ms. */
  readonly requestTimeoutMs: number;
  /** Keep and append to an incoming X-Forwarded-For chain (behind a trusted proxy). */
  readonly trustProxy: boolean;
}

/** Counters the exit server reports. */
export interface PublicCounters {
  /** Requests answered 503 because no client served the host. */
  noRoute: number;
  /** Requests currently in flight. */
  inFlight: number;
}

/** Tries per request for a bodiless request refused by draining clients. */
const MAX_ATTEMPTS = 3;

/** True when the request carries no body, so the OPEN frame can end our half at once. */
function hasNoBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  return te === undefined && (cl === undefined || cl === '0');
}

function buildHead(req: IncomingMessage, opts: PublicHttpOptions, rawHeaders: string[], authority: string): HttpRequestHead {
  const socket = req.socket;
  const remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
  return {
    kind: 'http',
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    authority,
    headers: withForwarded(rawHeaders, { remoteAddress, proto: 'http', host: authority, trustProxy: opts.trustProxy }),
    remoteAddress,
    remotePort: socket.remotePort ?? 0,
  };
}

/**
 * The public HTTP handler: routes by Host, opens a stream on the chosen client and pipes the
 * request body down and the response back, never buffering a whole body. Errors map to
 * 502/503/504 and touch only the request they belong to.
 */
export class PublicHttp {
  /** Counters for status and logs. */
  readonly counters: PublicCounters = { noRoute: 0, inFlight: 0 };
  /** While draining, new requests get 503. */
  draining = false;

  constructor(
    private readonly router: Router,
    private readonly opts: PublicHttpOptions,
    private readonly log: Logger,
  ) {}

  /** `request` listener of the public server. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const { headers, authority } = requestHeadersToTunnel(req.rawHeaders);
    const host = hostOf(authority);
    const done = (status: number, client?: ClientConn) => {
      this.log.info(
        { method: req.method, host, path: req.url, status, ms: Math.round((performance.now() - started) * 10) / 10, client: client?.hello.clientId },
        'request',
      );
    };
    if (this.draining) {
      this.plain(res, 503, 'exit server is shutting down\n');
      done(503);
      return;
    }
    const noBody = hasNoBody(req);
    const head = buildHead(req, this.opts, headers, authority);
    if (noBody) req.resume();
    this.forward(req, res, head, host, noBody, 0, done);
  };

  /**
   * Sends one request down a chosen client. A bodiless request that the client REFUSED (it was
   * draining and never touched it) is tried again on the next client, so a rolling restart of
   * edge clients fails no request; anything that may have reached the upstream is not retried.
   */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    head: HttpRequestHead,
    host: string,
    noBody: boolean,
    attempt: number,
    done: (status: number, client?: ClientConn) => void,
  ): void {
    const client = this.router.pick(host);
    if (!client) {
      this.counters.noRoute++;
      this.plain(res, 503, `no tunnel is connected for ${host || 'this host'}\n`);
      done(503);
      return;
    }
    let stream: TunnelStream;
    try {
      stream = client.session.openStream(head, noBody);
    } catch (err) {
      if (noBody && attempt < MAX_ATTEMPTS - 1) {
        this.forward(req, res, head, host, noBody, attempt + 1, done);
        return;
      }
      const f = failureReply(err);
      this.plain(res, f.status, `${f.text}\n`);
      done(f.status, client);
      return;
    }
    client.requestsServed++;
    this.counters.inFlight++;
    let finished = false;
    const finish = (status: number, retry = false) => {
      if (finished) return;
      finished = true;
      this.counters.inFlight--;
      clearTimeout(timer);
      if (!retry) done(status, client);
    };
    const timer = setTimeout(() => {
      stream.reset(ResetCode.UPSTREAM_TIMEOUT);
      if (!res.headersSent) this.plain(res, 504, 'upstream timed out behind the tunnel\n');
      finish(504);
    }, this.opts.requestTimeoutMs);

    stream.once('response', (reply: ResponseHead) => {
      clearTimeout(timer);
      if (res.destroyed) return;
      res.writeHead(reply.status, reply.statusMessage || undefined, reply.headers as string[]);
      stream.pipe(res);
      res.once('finish', () => finish(reply.status));
    });
    stream.on('error', (err) => {
      if (finished) return;
      if (!res.headersSent) {
        if (noBody && attempt < MAX_ATTEMPTS - 1 && err instanceof StreamResetError && err.reason === ResetCode.REFUSED && !res.destroyed) {
          finish(0, true);
          this.forward(req, res, head, host, noBody, attempt + 1, done);
          return;
        }
        const f = failureReply(err);
        this.plain(res, f.status, `${f.text}\n`);
        finish(f.status);
      } else {
        // Mid-body failure: the only honest signal left is to cut the response.
        res.destroy(err);
        finish(res.statusCode);
      }
    });
    res.once('close', () => {
      if (!res.writableFinished && !finished) {
        // The public client went away: stop the upstream work too.
        if (!stream.destroyed) stream.reset(ResetCode.CANCEL);
        finish(499);
      }
    });
    if (!noBody) {
      req.pipe(stream);
      req.once('error', () => stream.reset(ResetCode.CANCEL));
    }
  }

  /**
   * `upgrade` listener of the public server (WebSocket and other upgrades): the handshake goes
   * down the tunnel; a 101 back turns the stream into a raw byte pipe in both directions.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Socket, firstBytes: Buffer): void => {
    const started = performance.now();
    const { headers, authority, upgrade } = requestHeadersToTunnel(req.rawHeaders);
    const host = hostOf(authority);
    const log = (status: number, client?: ClientConn) =>
      this.log.info({ method: req.method, host, path: req.url, status, upgrade, ms: Math.round(performance.now() - started), client: client?.hello.clientId }, 'upgrade');
    socket.on('error', () => socket.destroy());
    const client = this.draining ? undefined : this.router.pick(host);
    if (!client) {
      this.counters.noRoute++;
      rawReply(socket, 503, `no tunnel is connected for ${host || 'this host'}\n`);
      log(503);
      return;
    }
    let stream: TunnelStream;
    try {
      stream = client.session.openStream(buildHead(req, this.opts, headers, authority));
    } catch (err) {
      const f = failureReply(err);
      rawReply(socket, f.status, `${f.text}\n`);
      log(f.status, client);
      return;
    }
    client.requestsServed++;
    const timer = setTimeout(() => {
      stream.reset(ResetCode.UPSTREAM_TIMEOUT);
      rawReply(socket, 504, 'upstream timed out behind the tunnel\n');
      log(504, client);
    }, this.opts.requestTimeoutMs);
    stream.once('response', (head: ResponseHead) => {
      clearTimeout(timer);
      let text = `HTTP/1.1 ${head.status} ${head.statusMessage || (head.status === 101 ? 'Switching Protocols' : '')}\r\n`;
      for (let i = 0; i < head.headers.length; i += 2) text += `${head.headers[i]}: ${head.headers[i + 1]}\r\n`;
      socket.write(`${text}\r\n`);
      stream.pipe(socket);
      log(head.status, client);
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      if (!stream.response) {
        const f = failureReply(err);
        rawReply(socket, f.status, `${f.text}\n`);
        log(f.status, client);
      } else {
        socket.destroy();
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!stream.destroyed && !stream.writableFinished) stream.reset(ResetCode.CANCEL);
    });
    if (firstBytes.length > 0) stream.write(firstBytes);
    socket.pipe(stream);
  };

  private plain(res: ServerResponse, status: number, text: string): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function rawReply(socket: Socket, status: number, text: string): void {
  if (socket.destroyed) return;
  const reason = status === 503 ? 'Service Unavailable' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}
