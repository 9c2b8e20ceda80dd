import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { hostOf, leaseReadBuffer, type Session } from '@tunnel/tunnel-protocol';
import { newRequestId } from '@tunnel/observability';
import { forwardRequestHead } from './http1/forward-head.ts';
import { expectsContinue, type RequestHead } from './http1/head.ts';
import { trustedFacts } from './http1/trusted-facts.ts';
import { Binder } from './public-binder.ts';
import type { Binding, Pending } from './public-binding.ts';
import { ConnCore } from './public-conn-core.ts';
import { ConnState } from './public-conn-state.ts';
import type { PublicHttp } from './public-http.ts';
import { ResponseSide } from './public-responses.ts';

/**
 * One public HTTP/1.1 connection. Requests are parsed and re-headed here, then carried with
 * their bodies over a tunnel stream; the upstream's bytes come back unchanged (ResponseSide).
 * Each stream has one upstream connection behind it. With `--balance request` every request
 * picks its client and rides the stream this connection already holds on it (see
 * PublicStreams, Binder); with `connection` the stream stays until the Host changes or its
 * client drains. Either way a request moves only between responses: a pipelined request (one
 * that arrives while responses are owed) rides the stream of the requests before it, since one
 * upstream connection answers in order by itself, where moving it would mean holding one
 * upstream's response back until another's is done, or waiting before sending it, which undoes
 * pipelining. Browsers and load balancers do not pipeline, so this costs balance nothing in
 * practice. Where the connection is in its life is its ConnState (see public-conn-state.ts).
 */
export class PublicConnection {
  private readonly core: ConnCore;
  private readonly binder: Binder;
  /** Accepted before the drain with no request yet: its first request is still answered. */
  private drainGrace = false;

  constructor(owner: PublicHttp, socket: Socket) {
    socket.setNoDelay(true);
    const core = new ConnCore(owner, socket, {
      head: (h) => this.onRequestHead(h),
      body: (p) => this.onRequestBody(p),
      end: () => this.core.requestRead(),
    });
    this.core = core;
    const responses = new ResponseSide(core, (p, authority, attempt, picked) => this.binder.open(p, authority, attempt, picked));
    this.binder = new Binder(core, responses);
    core.rescuer = (b) => responses.rescue(b);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onClientEnd());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => core.closed());
    // The response stream's credit was withheld while this socket was full.
    socket.on('drain', () => {
      core.deadlines.drained();
      // Every held stream: one whose response filled the socket may no longer be the active one.
      for (const b of core.streams.held()) b.stream.sinkDrained();
    });
    socket.setTimeout(owner.opts.keepAliveTimeoutMs, () => {
      // Closing too: an answered connection whose client keeps it open (its end may never
      // arrive, stuck behind bytes we no longer read) is not kept past this either.
      if (core.idle || core.closing) socket.destroy();
    });
  }

  /** Where the connection is in its life. */
  get state(): ConnState {
    return this.core.state;
  }

  /** Lets go of idle held streams: the one on `session`, or every one (see ConnCore.leaveIfIdle). */
  leaveIfIdle(session?: Session): void {
    this.core.leaveIfIdle(session);
  }

  /**
   * Exit-server drain: close now if idle, else after the responses in flight. A connection with
   * no request yet was accepted before the listener closed: its request is on the way (a load
   * balancer sent it before it saw us unhealthy), so it is answered first, then closed.
   */
  closeIfIdle(): void {
    const core = this.core;
    core.endAfterResponses = true;
    // No head yet (a held head implies an earlier request, so none was held).
    if (core.deadlines.headsDone === 0 && !core.closing) {
      this.drainGrace = true;
      return;
    }
    if (core.idle) core.endSocket();
  }

  /** Accepted before the drain and its first request has not arrived yet. */
  get fresh(): boolean {
    return this.drainGrace && !this.core.closing;
  }

  /** Cuts the connection. */
  destroy(): void {
    this.core.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const core = this.core;
    if (core.closing) return;
    const atBoundary = !core.requests.inBody && !core.requests.raw;
    const heads = core.deadlines.headsDone;
    try {
      core.requests.push(chunk);
    } catch (err) {
      core.refuse(err);
      return;
    }
    core.deadlines.afterBytesIn(atBoundary, heads, core.requests.inHead);
  }

  private onRequestHead(h: RequestHead): boolean {
    const core = this.core;
    const owner = core.owner;
    core.deadlines.headDone();
    if (core.closing) return false;
    const host = hostOf(h.authority);
    const active = core.streams.active;
    // Responses are owed: the request is pipelined and rides with them (see the class comment),
    // unless it may not, or enough are in flight already, and then it waits for them.
    const pipelined = active !== undefined && !active.idle;
    if (
      pipelined &&
      (active.host !== host || !active.client.available || owner.draining || active.pending.length >= owner.opts.maxPipelinedRequests)
    )
      return this.holdHead();
    const p = this.newPending(h, host);
    if (owner.draining && !this.takeDrainGrace()) {
      core.answer(503, 'exit server is shutting down');
      owner.requestDone(p, 503, undefined);
      return false;
    }
    const sticky = owner.router.sticky;
    const cookie = sticky?.valueIn(h.rawHeaders);
    const b = pipelined ? active : this.binder.choose(p, h.authority, cookie);
    if (!b) return false;
    const own = sticky?.valueOfClient(b.client);
    p.setCookie = own !== cookie ? own : undefined;
    this.forward(h, p, b);
    return true;
  }

  /** The first request of a connection accepted before the drain is served (see closeIfIdle); true once, for it. */
  private takeDrainGrace(): boolean {
    const grace = this.drainGrace;
    this.drainGrace = false;
    return grace;
  }

  /** Re-heads request `h` and sends it down `b`; an upgrade request holds what follows until it is answered. */
  private forward(h: RequestHead, p: Pending, b: Binding): void {
    const core = this.core;
    const opts = core.owner.opts;
    const bytes = forwardRequestHead(
      h,
      { remoteAddress: core.remoteAddress, clientAddress: p.remote, proto: 'http', host: h.authority, trustProxy: opts.trustProxy },
      { allowUnderscoreHeaders: opts.allowUnderscoreHeaders, requestId: p.requestId },
    );
    p.bytesIn = bytes.length;
    b.pending.push(p);
    if (h.connection.has('close') || (h.minor === 0 && !h.connection.has('keep-alive'))) {
      // The client's last request (RFC 9112 9.6): nothing it sends after it is forwarded, and
      // the connection ends once it is answered, whether or not the upstream closes its side.
      b.closeAfter = true;
      core.endAfterResponses = true;
      core.requests.stopAfterMessage();
    }
    core.owner.counters.inFlight++;
    b.client.inFlight++;
    b.client.requestsServed++;
    // The wait for a body's answer starts when it has been read (see ConnCore.requestRead),
    // unless the client waits for a 100 before sending it.
    const body = h.framing.kind !== 'none';
    core.awaitingContinue = body && expectsContinue(h);
    if (b.pending.length === 1 && (!body || core.awaitingContinue)) core.armResponseTimer();
    core.send(b, bytes, !body && h.upgrade === undefined);
    if (body && !core.awaitingContinue) core.clockBody();
    if (h.upgrade !== undefined) {
      // What follows an upgrade request is either the new protocol or the next request:
      // only the answer tells, so hold it until then.
      if (!core.closing) core.move(ConnState.UpgradeAsked);
      core.requests.pause();
      core.socket.pause();
    }
  }

  /** A request about to be forwarded: its id and public client (from a trusted proxy, or this connection). */
  private newPending(h: RequestHead, host: string): Pending {
    const trusted = this.core.owner.opts.trustProxy ? trustedFacts(h.rawHeaders) : undefined;
    return {
      method: h.method,
      host,
      target: h.target,
      started: performance.now(),
      status: undefined,
      setCookie: undefined,
      requestId: trusted?.requestId ?? newRequestId(),
      remote: trusted?.clientAddress ?? this.core.remoteAddress,
      firstByte: -1,
      bytesIn: 0,
      bytesOut: 0,
    };
  }

  private onRequestBody(piece: Buffer): void {
    const core = this.core;
    const b = core.streams.active;
    if (core.closing || !b || piece.length === 0) return;
    const last = b.pending[b.pending.length - 1];
    if (last) last.bytesIn += piece.length;
    b.replay = null;
    core.continued();
    core.deadlines.bodyFlowing();
    // The stream keeps the piece until it is framed, and the session until it is written.
    if (!b.stream.write(piece, leaseReadBuffer(piece))) core.pauseForStream(b);
  }

  /** Holds a pipelined head (the reader pauses before it) until the active binding has answered everything. */
  private holdHead(): boolean {
    this.core.move(ConnState.HeadHeld);
    this.core.socket.pause();
    return false;
  }

  private onClientEnd(): void {
    const core = this.core;
    core.endAfterResponses = true;
    const b = core.streams.active;
    if (b && (b.pending.length > 0 || core.state === ConnState.Piping)) {
      // Half-close: the upstream sees it too and still answers what it got. Streams held for
      // later requests have nothing more coming.
      for (const other of core.streams.all()) if (other !== b) core.release(other);
      b.stream.end();
      return;
    }
    core.endSocket();
  }
}
