import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  HttpError,
  ResetCode,
  StreamResetError,
  hostOf,
  leaseReadBuffer,
  stripV4Mapped,
  tickCorker,
  writeLeased,
  type Session,
  type TunnelStream,
} from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import { newRequestId } from '@tunnel/observability';
import { failureReply } from './errors-to-status.ts';
import { forwardRequestHead, forwardResponseHead } from './http1/forward-head.ts';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './http1/head.ts';
import { heldBytesError } from './http1/held-bytes.ts';
import { MessageReader } from './http1/reader.ts';
import { trustedFacts } from './http1/trusted-facts.ts';
import { plainReply } from './plain-reply.ts';
import { PublicDeadlines } from './public-deadlines.ts';
import { openReclaiming } from './stream-reclaim.ts';
import { Binding, type Pending } from './public-binding.ts';
import type { PublicHttp } from './public-http.ts';
import { MAX_STREAMS_PER_CONNECTION, PublicStreams } from './public-streams.ts';

/** Tries per connection for bodiless requests refused by draining clients. */
const MAX_ATTEMPTS = 3;
/** Largest upstream response head, bytes (cookies make these bigger than request heads). */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/**
 * One public HTTP/1.1 connection. Requests are parsed and re-headed here, then carried with
 * their bodies over a tunnel stream; the upstream's bytes come back unchanged. Each stream has
 * one upstream connection behind it. With `--balance request` every request picks its client
 * and rides the stream this connection already holds on it (see PublicStreams); with
 * `connection` the stream stays until the Host changes or its client drains. Either way a
 * request moves only between responses: a pipelined request (one that arrives while responses
 * are owed) rides the stream of the requests before it, since one upstream connection answers
 * in order by itself, where moving it would mean holding one upstream's response back until
 * another's is done, or waiting before sending it, which undoes pipelining. Browsers and load
 * balancers do not pipeline, so this costs balance nothing in practice.
 */
export class PublicConnection {
  private readonly requests: MessageReader<RequestHead>;
  private readonly streams = new PublicStreams();
  private readonly remoteAddress: string;
  private readonly deadlines: PublicDeadlines;
  private responseTimer: NodeJS.Timeout | undefined;
  /** An error was answered (or the drain ended us): ignore what else arrives. */
  private closing = false;
  /** A request head is held until the current binding has answered everything. */
  private waiting = false;
  /** An upgrade request is out: hold later bytes until the answer says 101 or not. */
  private awaitingUpgrade = false;
  private upgraded = false;
  private clientEnded = false;
  private endWhenIdle = false;
  /** Request heads seen. */
  private requestsSeen = 0;
  /** Accepted before the drain with no request yet: its first request is still answered. */
  private firstAfterDrain = false;
  private pausedForStream = false;
  /** Everything written in one tick leaves in one writev (see tickCorker). */
  private readonly corkForTick: () => void;

  constructor(
    private readonly owner: PublicHttp,
    private readonly socket: Socket,
  ) {
    this.remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
    socket.setNoDelay(true);
    this.corkForTick = tickCorker(socket);
    this.requests = new MessageReader<RequestHead>(
      parseRequestHead,
      owner.opts.maxHeaderBytes,
      { head: (h) => this.onRequestHead(h), body: (p) => this.onRequestBody(p), end: () => {} },
      () => new HttpError('TUN_ERR_HEADERS_TOO_LARGE', 431, `request head over ${owner.opts.maxHeaderBytes} bytes`),
      (detail) => new HttpError('TUN_ERR_BAD_REQUEST', 400, detail),
      { maxBytes: owner.opts.maxHeldBytes, over: heldBytesError },
    );
    this.deadlines = new PublicDeadlines(owner.opts, {
      headTooSlow: () => {
        // Bytes we hold back (behind a busy request, before an upgrade's answer) are not late.
        if (this.waiting || this.awaitingUpgrade) this.deadlines.headHeld();
        else this.refuse(new HttpError('TUN_ERR_BAD_REQUEST', 408, 'the request head took too long'));
      },
      streamIdle: () => this.leaveIfIdle(),
      sendStalled: () => this.timedOut('the client stopped reading the response (--send-timeout)'),
      upstreamStalled: () => {
        // The client not reading holds the upstream back: that is the send timeout's business.
        if (this.socket.writableNeedDrain) this.deadlines.upstreamHeld();
        else this.timedOut('the upstream stopped sending mid-response (--upstream-read-timeout)', ResetCode.UPSTREAM_TIMEOUT);
      },
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
    // The response stream's credit was withheld while this socket was full.
    socket.on('drain', () => {
      this.deadlines.drained();
      // Every held stream: one whose response filled the socket may no longer be the active one.
      for (const b of this.streams.held()) b.stream.sinkDrained();
    });
    socket.setTimeout(owner.opts.keepAliveTimeoutMs, () => {
      if (this.idle) socket.destroy();
    });
  }

  private get idle(): boolean {
    return (this.streams.active?.pending.length ?? 0) === 0 && !this.upgraded && !this.awaitingUpgrade && this.requests.idle;
  }

  /**
   * Lets go of idle held streams (and so of the upstream connections behind them): the one on
   * `session` when its client starts draining, or every one when the connection has had
   * nothing in flight for --stream-idle-timeout.
   */
  leaveIfIdle(session?: Session): void {
    const held = session === undefined ? this.streams.all() : [this.streams.onSession(session)];
    for (const b of held) if (b && b.pending.length === 0 && !this.upgraded && !b.responses.raw) this.release(b);
  }

  /**
   * Exit-server drain: close now if idle, else after the responses in flight. A connection with
   * no request yet was accepted before the listener closed: its request is on the way (a load
   * balancer sent it before it saw us unhealthy), so it is answered first, then closed.
   */
  closeIfIdle(): void {
    this.endWhenIdle = true;
    if (this.requestsSeen === 0 && !this.closing) {
      this.firstAfterDrain = true;
      return;
    }
    if (this.idle) this.endSocket();
  }

  /** Accepted before the drain and its first request has not arrived yet. */
  get fresh(): boolean {
    return this.firstAfterDrain && this.requestsSeen === 0 && !this.closing;
  }

  /** Cuts the connection. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const atBoundary = !this.requests.inBody && !this.requests.raw;
    const heads = this.deadlines.headsDone;
    try {
      this.requests.push(chunk);
    } catch (err) {
      this.refuse(err);
      return;
    }
    this.deadlines.afterBytesIn(atBoundary, heads, this.requests.inHead);
  }

  /** A time limit passed: logged with its code, the stream reset, the connection cut. */
  private timedOut(why: string, reason: number = ResetCode.CANCEL): void {
    if (this.closing) return;
    this.owner.log.info({ remote: this.remoteAddress, code: 'TUN_ERR_PUBLIC_TIMEOUT', why }, 'public connection timed out');
    for (const b of this.streams.all()) {
      this.detach(b);
      this.dropPending(b, 504);
      if (!b.stream.destroyed) b.stream.reset(reason);
    }
    this.closing = true;
    this.socket.destroy();
  }

  /** A malformed request: answered with its status when the connection is between responses, else cut. */
  private refuse(err: unknown): void {
    const status = err instanceof HttpError ? err.status : 400;
    const b = this.streams.active;
    this.owner.log.debug({ remote: this.remoteAddress, status, err: (err as Error).message }, 'bad public request');
    // The bad bytes belong to the one request in flight and not yet answered (its body, or
    // bytes sent before its upgrade was answered): its answer is this status. Bytes of a later
    // request cannot be answered before the earlier ones: cut.
    const current = this.requests.inBody || this.awaitingUpgrade;
    const answerable =
      !b || (b.responses.idle && (b.pending.length === 0 || (current && b.pending.length === 1 && b.pending[0].status === 0)));
    if (!answerable) {
      this.abort();
      return;
    }
    this.answer(status, (err as Error).message);
  }

  private onRequestHead(h: RequestHead): boolean {
    this.deadlines.headDone();
    if (this.closing) return false;
    const host = hostOf(h.authority);
    const active = this.streams.active;
    // Responses are owed: the request is pipelined and rides with them (see the class comment),
    // unless it may not, and then it waits for them.
    const pipelined = active !== undefined && !active.idle;
    if (pipelined && (active.host !== host || !active.client.available || this.owner.draining)) return this.waitForIdle();
    this.requestsSeen++;
    const p = this.newPending(h, host);
    // The first request of a connection accepted before the drain is served (see closeIfIdle).
    if (this.owner.draining && !(this.firstAfterDrain && this.requestsSeen === 1)) {
      this.answer(503, 'exit server is shutting down');
      this.owner.requestDone(p, 503, undefined);
      return false;
    }
    const sticky = this.owner.router.sticky;
    const cookie = sticky?.valueIn(h.rawHeaders);
    const b = pipelined ? active : this.choose(p, h.authority, cookie);
    if (!b) return false;
    const bytes = forwardRequestHead(
      h,
      { remoteAddress: this.remoteAddress, proto: 'http', host: h.authority, trustProxy: this.owner.opts.trustProxy },
      {
        allowUnderscoreHeaders: this.owner.opts.allowUnderscoreHeaders,
        requestId: p.requestId,
      },
    );
    const own = sticky?.valueOfClient(b.client);
    p.setCookie = own !== cookie ? own : undefined;
    p.bytesIn = bytes.length;
    b.pending.push(p);
    if (h.connection.has('close') || (h.minor === 0 && !h.connection.has('keep-alive'))) b.closeAfter = true;
    this.owner.counters.inFlight++;
    b.client.inFlight++;
    b.client.requestsServed++;
    if (b.pending.length === 1) this.armResponseTimer();
    this.send(b, bytes, h.framing.kind === 'none' && h.upgrade === undefined);
    if (h.upgrade !== undefined) {
      // What follows an upgrade request is either the new protocol or the next request:
      // only the answer tells, so hold it until then.
      this.awaitingUpgrade = true;
      this.requests.pause();
      this.socket.pause();
    }
    return true;
  }

  /** A request about to be forwarded: its id and public client (from a trusted proxy, or this connection). */
  private newPending(h: RequestHead, host: string): Pending {
    const trusted = this.owner.opts.trustProxy ? trustedFacts(h.rawHeaders) : undefined;
    return {
      method: h.method,
      host,
      target: h.target,
      started: performance.now(),
      status: 0,
      setCookie: undefined,
      requestId: trusted?.requestId ?? newRequestId(),
      remote: trusted?.clientAddress ?? this.remoteAddress,
      firstByte: -1,
      bytesIn: 0,
      bytesOut: 0,
    };
  }

  private onRequestBody(piece: Buffer): void {
    const b = this.streams.active;
    if (this.closing || !b || piece.length === 0) return;
    const last = b.pending[b.pending.length - 1];
    if (last) last.bytesIn += piece.length;
    b.replay = null;
    // The stream keeps the piece until it is framed, and the session until it is written.
    if (!b.stream.write(piece, leaseReadBuffer(piece))) this.pauseForStream(b);
  }

  private send(b: Binding, bytes: Buffer, replayable: boolean): void {
    if (b.replay) {
      if (replayable) b.replay.push(bytes);
      else b.replay = null;
    }
    if (!b.stream.write(bytes)) this.pauseForStream(b);
  }

  /** The tunnel stream is full: stop reading the public socket until it drains. */
  private pauseForStream(b: Binding): void {
    if (this.pausedForStream) return;
    this.pausedForStream = true;
    this.socket.pause();
    b.stream.once('drain', () => {
      this.pausedForStream = false;
      this.resumeReading();
    });
  }

  /** Reads the socket again unless something still holds it paused (a full stream, a held request, an upgrade's answer). */
  private resumeReading(): void {
    if (!this.pausedForStream && !this.waiting && !this.awaitingUpgrade && !this.closing) this.socket.resume();
  }

  private waitForIdle(): boolean {
    this.waiting = true;
    this.socket.pause();
    return false;
  }

  /**
   * The binding for a request that may go anywhere (nothing is owed on this connection): the
   * stream held on the client the policy (or the sticky cookie) picks, else a new one (see
   * open). With `--balance connection` the active stream stays while its client serves the
   * Host, and is the only one held.
   */
  private choose(p: Pending, authority: string, cookie: string | undefined): Binding | undefined {
    const host = p.host;
    const active = this.streams.active;
    const preferred = cookie === undefined ? undefined : this.owner.router.sticky?.clientsFor(cookie);
    const perConnection = this.owner.opts.balance === 'connection';
    if (
      perConnection &&
      active &&
      active.host === host &&
      active.client.available &&
      (!preferred?.length || preferred.includes(active.client))
    )
      return active;
    const client = this.owner.router.pick(host, preferred);
    if (perConnection && active && active.client !== client) this.release(active);
    if (client && !this.streams.get(client) && this.streams.size >= MAX_STREAMS_PER_CONNECTION) {
      const lru = this.streams.leastRecentIdle();
      if (lru) this.release(lru);
    }
    return this.open(p, authority, 0, client ?? null);
  }

  /**
   * The binding for request `h` (to its host) on `client` (undefined: the next the router
   * picks; null: none serves it): the stream held there, or a new one; answers the request
   * itself on failure.
   */
  private open(h: Pending, authority: string, attempt: number, picked?: ClientConn | null): Binding | undefined {
    const host = h.host;
    const client = picked === undefined ? this.owner.router.pick(host) : picked;
    if (!client) {
      this.owner.counters.noRoute++;
      this.answer(503, `no tunnel is connected for ${host || 'this host'}`);
      this.owner.requestDone(h, 503, undefined);
      return undefined;
    }
    // The fast path: ride the stream already held on this client (idle, since only the active
    // one can owe responses), unless it carries another Host's upstream connection. A request
    // replayed after a refusal lands here too.
    const held = this.streams.get(client);
    if (held && held.idle && held.host === host) return this.streams.use(client);
    if (held) this.release(held);
    let stream: TunnelStream;
    try {
      const head = {
        kind: 'http',
        method: h.method,
        target: h.target,
        authority,
        headers: [],
        remoteAddress: this.remoteAddress,
        remotePort: this.socket.remotePort ?? 0,
      } as const;
      stream = openReclaiming(client.session, head, () => this.owner.reclaimIdle(client.session));
    } catch (err) {
      const f = failureReply(err);
      this.answer(f.status, f.text);
      this.owner.requestDone(h, f.status, client);
      return undefined;
    }
    const b = new Binding(client, stream, host, attempt);
    b.series = this.owner.metrics.requestSeries(host, client);
    b.responses = new MessageReader<ResponseHead>(
      (head) => parseResponseHead(head, b.pending[0]?.method ?? 'GET'),
      Math.max(MAX_RESPONSE_HEAD_BYTES, this.owner.opts.maxHeaderBytes),
      { head: (r, raw) => this.onResponseHead(b, r, raw), body: (p) => this.write(p, b), end: () => this.onResponseEnd(b) },
      () => new HttpError('TUN_ERR_BAD_RESPONSE', 502, 'response head too large'),
      (detail) => new HttpError('TUN_ERR_BAD_RESPONSE', 502, detail),
    );
    stream.setSink({
      write: (chunk) => {
        this.onResponseData(b, chunk);
        return !this.socket.writableNeedDrain;
      },
    });
    stream.on('end', () => this.onStreamEnd(b));
    stream.on('error', (err: Error) => this.onStreamError(b, err));
    this.streams.add(b);
    this.owner.bind(this, client.session);
    return b;
  }

  private onResponseData(b: Binding, chunk: Buffer): void {
    if (b !== this.streams.active) {
      // Bytes on a stream that owes nothing: no request will ever claim them.
      if (this.streams.holds(b)) this.release(b);
      return;
    }
    b.confirmed = true;
    b.replay = null;
    try {
      b.responses.push(chunk);
      this.deadlines.responseBytes(b.pending.length > 0 && b.pending[0].status !== 0 && !this.upgraded);
    } catch (err) {
      this.owner.log.warn({ host: b.host, client: b.client.hello.clientId, err: (err as Error).message }, 'upstream sent invalid HTTP');
      if (b.responses.idle && b.pending.length > 0 && b.pending[0].status === 0)
        this.answer(502, 'the upstream answered with invalid HTTP');
      else this.abort();
    }
  }

  private onResponseHead(b: Binding, r: ResponseHead, raw: Buffer): void {
    const p = b.pending[0];
    if (!p) throw new HttpError('TUN_ERR_BAD_RESPONSE', 502, 'a response nobody asked for');
    if (r.status === 101) {
      if (!this.awaitingUpgrade) throw new HttpError('TUN_ERR_BAD_RESPONSE', 502, '101 without an upgrade request');
      // Both directions become a plain byte pipe; the request reader replays what it held.
      p.status = 101;
      p.firstByte = performance.now();
      this.clearResponseTimer();
      this.write(raw, b);
      b.responses.switchToRaw();
      this.requests.switchToRaw();
      this.upgraded = true;
      this.awaitingUpgrade = false;
      this.finish(b);
      this.requests.resume();
      this.resumeReading();
      return;
    }
    if (r.status < 200) {
      this.write(raw, b); // interim (100 Continue, 103 Early Hints)
      b.interim = true;
      return;
    }
    p.status = r.status;
    p.firstByte = performance.now();
    this.clearResponseTimer();
    if (r.connection.has('close')) b.closeAfter = true;
    const head = forwardResponseHead(r, raw);
    const sticky = this.owner.router.sticky;
    this.write(p.setCookie !== undefined && sticky ? sticky.withCookie(head, p.setCookie) : head, b);
    if (this.awaitingUpgrade) {
      // Upgrade declined: the held bytes are HTTP again.
      this.awaitingUpgrade = false;
      setImmediate(() => {
        this.requests.resume();
        this.resumeReading();
      });
    }
  }

  private onResponseEnd(b: Binding): void {
    if (b.interim) {
      b.interim = false;
      return;
    }
    this.finish(b);
    if (b.pending.length > 0) {
      this.armResponseTimer();
      return;
    }
    this.clearResponseTimer();
    this.deadlines.nothingInFlight();
    if (this.endWhenIdle || this.clientEnded) {
      this.endSocket();
      return;
    }
    if (this.waiting) {
      this.waiting = false;
      // Outside the stream's 'data' handler: resuming may release this very stream.
      setImmediate(() => {
        if (this.closing) return;
        if (!this.pausedForStream) this.socket.resume();
        try {
          this.requests.resume();
        } catch (err) {
          this.refuse(err);
        }
      });
    } else if (!b.client.available) {
      this.release(b);
    }
  }

  /** The upstream closed its side: a close-delimited body ended, or the connection is over. */
  private onStreamEnd(b: Binding): void {
    if (b !== this.streams.active) {
      // An idle stream this connection held for later requests: its upstream closed it.
      this.forget(b);
      return;
    }
    if (b.responses.raw) {
      while (b.pending.length > 0) this.finish(b);
      this.endSocket();
      return;
    }
    if (b.pending.length > 0) {
      if (b.responses.idle && b.pending[0].status === 0) this.answer(502, 'the upstream closed the connection without answering');
      else this.abort();
      return;
    }
    // With one upstream connection per public connection, mirror the upstream's close (its
    // keep-alive timeout, `Connection: close`) as a direct connection would. Per request, the
    // public connection also has other clients' streams and outlives one of them, unless a
    // request or response asked for the close.
    if (this.owner.opts.balance === 'request' && !b.closeAfter) {
      this.forget(b);
      return;
    }
    this.endSocket();
  }

  /** Lets go of a held stream that ended by itself. */
  private forget(b: Binding): void {
    if (!this.streams.holds(b)) return;
    this.detach(b);
    if (!b.stream.destroyed) b.stream.end();
  }

  private onStreamError(b: Binding, err: Error): void {
    if (b !== this.streams.active) {
      if (this.streams.holds(b)) this.detach(b); // an idle held stream failed: the next request to its client opens another
      return;
    }
    this.detach(b);
    if (b.pending.length === 0 && !this.upgraded && !b.responses.raw) return; // an idle stream lost: the next request opens another
    const refused = err instanceof StreamResetError && err.reason === ResetCode.REFUSED;
    if (refused && !b.confirmed && b.replay && b.attempt < MAX_ATTEMPTS - 1 && !this.closing) {
      // The client was draining and never touched these bytes: replay them elsewhere.
      const p = b.pending[0];
      const nb = this.open(p, b.host, b.attempt + 1);
      if (nb) {
        nb.pending.push(...b.pending);
        // The requests are the new client's now (the refusing one never saw them).
        b.client.inFlight -= b.pending.length;
        b.client.requestsServed -= b.pending.length;
        nb.client.inFlight += b.pending.length;
        nb.client.requestsServed += b.pending.length;
        for (const bytes of b.replay) this.send(nb, bytes, true);
        this.armResponseTimer();
      } else {
        this.dropPending(b, 0);
      }
      return;
    }
    if (b.responses.idle && b.pending.length > 0 && b.pending[0].status === 0 && !this.upgraded) {
      const f = failureReply(err);
      this.answer(f.status, f.text);
      this.dropPending(b, f.status);
    } else {
      this.dropPending(b, b.pending[0]?.status || 502);
      this.socket.destroy();
    }
  }

  private armResponseTimer(): void {
    clearTimeout(this.responseTimer);
    this.responseTimer = setTimeout(() => this.onResponseTimeout(), this.owner.opts.requestTimeoutMs);
  }

  private clearResponseTimer(): void {
    clearTimeout(this.responseTimer);
    this.responseTimer = undefined;
  }

  private onResponseTimeout(): void {
    this.responseTimer = undefined;
    const b = this.streams.active;
    if (!b || b.pending.length === 0 || b.pending[0].status !== 0) return;
    this.detach(b);
    b.stream.reset(ResetCode.UPSTREAM_TIMEOUT);
    if (b.responses.idle) this.answer(504, 'upstream timed out behind the tunnel');
    else this.socket.destroy();
    this.dropPending(b, 504);
  }

  /**
   * Writes response bytes, leasing borrowed read buffers until written (see writeLeased); the
   * stream's sink reports the socket full, which withholds the stream's credit until it drains.
   */
  private write(buf: Buffer, from: Binding): void {
    if (buf.length === 0 || this.socket.destroyed) return;
    const p = from.pending[0];
    if (p) p.bytesOut += buf.length;
    this.corkForTick();
    writeLeased(this.socket, buf);
    this.deadlines.wrote(this.socket.writableNeedDrain);
  }

  /** The oldest pending request got its whole response. */
  private finish(b: Binding): void {
    const p = b.pending.shift();
    if (!p) return;
    this.owner.counters.inFlight--;
    b.client.inFlight--;
    this.owner.requestDone(p, p.status, b.client, b.series);
  }

  /** Forgets every pending request of `b` (failed with `status`, 0 when already answered elsewhere). */
  private dropPending(b: Binding, status: number): void {
    while (b.pending.length > 0) {
      const p = b.pending.shift() as Pending;
      this.owner.counters.inFlight--;
      b.client.inFlight--;
      if (status) this.owner.requestDone(p, status, b.client, b.series);
    }
  }

  /** Answers with a short plain-text error and closes the connection. */
  private answer(status: number, text: string): void {
    if (this.closing) return;
    this.closing = true;
    this.requests.pause();
    for (const b of this.streams.all()) this.release(b);
    if (this.socket.destroyed) return;
    this.socket.end(plainReply(status, `${text}\n`));
  }

  private abort(): void {
    this.closing = true;
    for (const b of this.streams.all()) this.release(b);
    this.socket.destroy();
  }

  private endSocket(): void {
    this.closing = true;
    for (const b of this.streams.all()) {
      this.detach(b);
      this.dropPending(b, 0);
      if (!b.stream.destroyed) b.stream.end();
    }
    if (!this.socket.destroyed) this.socket.end();
  }

  /** Lets go of a stream: a reset, since nothing more is wanted from it. */
  private release(b: Binding): void {
    this.detach(b);
    this.dropPending(b, 0);
    if (!b.stream.destroyed) b.stream.reset(ResetCode.CANCEL);
  }

  private detach(b: Binding): void {
    if (this.streams.active === b) this.clearResponseTimer();
    if (this.streams.delete(b)) this.owner.unbind(this, b.client.session);
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    const b = this.streams.active;
    if (b && (b.pending.length > 0 || this.upgraded)) {
      // Half-close: the upstream sees it too and still answers what it got. Streams held for
      // later requests have nothing more coming.
      for (const other of this.streams.all()) if (other !== b) this.release(other);
      b.stream.end();
      return;
    }
    this.endSocket();
  }

  private onClose(): void {
    this.deadlines.stop();
    this.clearResponseTimer();
    this.closing = true;
    for (const b of this.streams.all()) {
      this.detach(b);
      this.dropPending(b, 499);
      if (!b.stream.destroyed) b.stream.reset(ResetCode.CANCEL);
    }
  }
}
