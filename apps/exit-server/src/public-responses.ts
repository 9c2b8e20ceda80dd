import { performance } from 'node:perf_hooks';
import { HttpError, ResetCode, SessionClosedError, StreamResetError, type Borrowed } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import { failureReply } from './errors-to-status.ts';
import { forwardResponseHead } from './http1/forward-head.ts';
import type { ResponseHead } from './http1/head.ts';
import type { Binding, Pending } from './public-binding.ts';
import type { ConnCore } from './public-conn-core.ts';
import { ConnState } from './public-conn-state.ts';

/** Tries per connection for bodiless requests refused by draining clients (or rescued from vanished ones). */
const MAX_ATTEMPTS = 3;

/**
 * Methods whose requests may be sent again after a client that may have seen them vanished
 * (RFC 9110 9.2.2; PUT and DELETE are idempotent too, but carry or change state a retry could
 * surprise, and a bodiless request with them is rare).
 */
const REPLAYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Opens a binding for `p` (with `authority` in its open head) on `picked`, or the next client the router picks; answers the request itself and returns undefined on failure. */
export type Reopen = (p: Pending, authority: string, attempt: number, picked?: ClientConn) => Binding | undefined;

/**
 * The response side of one public connection: what comes back on its tunnel streams. Response
 * heads are framed and re-headed here and bodies pass through; the end of a response frees the
 * connection for its next request, and an upstream's failure becomes an error status while
 * nothing of its response has been sent, else a cut.
 */
export class ResponseSide {
  constructor(
    private readonly core: ConnCore,
    /** Where a request refused unseen by a draining client is replayed. */
    private readonly reopen: Reopen,
  ) {}

  /** Bytes arrived on `b`'s stream (its sink). */
  onData(b: Binding, chunk: Borrowed): void {
    const core = this.core;
    if (b !== core.streams.active) {
      // Bytes on a stream that owes nothing: no request will ever claim them.
      if (core.streams.holds(b)) core.release(b);
      return;
    }
    b.confirmed = true;
    b.replay = null;
    try {
      b.responses.push(chunk);
      core.deadlines.responseBytes(b.pending.length > 0 && !b.awaitingHead);
    } catch (err) {
      core.owner.log.warn({ host: b.host, client: b.client.hello.clientId, err: (err as Error).message }, 'upstream sent invalid HTTP');
      core.failOwed(b, 502, 'the upstream answered with invalid HTTP');
    }
  }

  /** A response head was framed on `b`. */
  onHead(b: Binding, r: ResponseHead, raw: Buffer): void {
    const core = this.core;
    const p = b.pending[0];
    if (!p) throw new HttpError('TUN_ERR_BAD_RESPONSE', 502, 'a response nobody asked for');
    if (r.status === 101) {
      this.upgraded(b, p, raw);
      return;
    }
    if (r.status < 200) {
      core.write(raw, b); // interim (100 Continue, 103 Early Hints)
      b.interim = true;
      if (r.status === 100) core.continued();
      return;
    }
    p.status = r.status;
    p.firstByte = performance.now();
    core.clearResponseTimer();
    if (r.connection.has('close')) b.closeAfter = true;
    const head = forwardResponseHead(r, raw);
    const sticky = core.owner.router.sticky;
    core.write(p.setCookie !== undefined && sticky ? sticky.withCookie(head, p.setCookie) : head, b);
    if (core.state === ConnState.UpgradeAsked) {
      // Upgrade declined: the held bytes are HTTP again.
      core.move(ConnState.Reading);
      setImmediate(() => {
        core.requests.resume();
        core.resumeReading();
      });
    }
  }

  /** A 101 answered the upgrade request: both directions become a plain byte pipe; the request reader replays what it held. */
  private upgraded(b: Binding, p: Pending, raw: Buffer): void {
    const core = this.core;
    if (core.state !== ConnState.UpgradeAsked) throw new HttpError('TUN_ERR_BAD_RESPONSE', 502, '101 without an upgrade request');
    p.status = 101;
    p.firstByte = performance.now();
    core.clearResponseTimer();
    core.write(raw, b);
    b.responses.switchToRaw();
    core.requests.switchToRaw();
    core.move(ConnState.Piping);
    core.finish(b);
    core.requests.resume();
    core.resumeReading();
  }

  /** A response on `b` is complete (or an interim one, which answers nothing). */
  onEnd(b: Binding): void {
    const core = this.core;
    if (b.interim) {
      b.interim = false;
      return;
    }
    core.finish(b);
    if (b.pending.length > 0) {
      core.armResponseTimer();
      return;
    }
    core.clearResponseTimer();
    core.deadlines.nothingInFlight();
    if (core.endAfterResponses) {
      core.endSocket();
      return;
    }
    if (core.state === ConnState.HeadHeld) {
      core.move(ConnState.Reading);
      // Outside the stream's 'data' handler: resuming may release this very stream.
      setImmediate(() => {
        if (core.closing) return;
        core.resumeReading();
        try {
          core.requests.resume();
        } catch (err) {
          core.refuse(err);
        }
      });
    } else if (!b.client.available) {
      core.release(b);
    }
  }

  /** The upstream closed its side of `b`: a close-delimited body ended, or the connection is over. */
  onStreamEnd(b: Binding): void {
    const core = this.core;
    if (b !== core.streams.active) {
      // An idle stream this connection held for later requests: its upstream closed it.
      core.forget(b);
      return;
    }
    if (b.responses.raw) {
      while (b.pending.length > 0) core.finish(b);
      core.endSocket();
      return;
    }
    if (b.pending.length > 0) {
      core.failOwed(b, 502, 'the upstream closed the connection without answering');
      return;
    }
    // With one upstream connection per public connection, mirror the upstream's close (its
    // keep-alive timeout, `Connection: close`) as a direct connection would. Per request, the
    // public connection also has other clients' streams and outlives one of them, unless a
    // request or response asked for the close.
    if (core.owner.opts.balance === 'request' && !b.closeAfter) {
      core.forget(b);
      return;
    }
    core.endSocket();
  }

  /** `b`'s stream failed (reset, or its session closed). */
  onStreamError(b: Binding, err: Error): void {
    const core = this.core;
    if (b !== core.streams.active) {
      if (core.streams.holds(b)) core.detach(b); // an idle held stream failed: the next request to its client opens another
      return;
    }
    core.detach(b);
    if (b.pending.length === 0 && core.state !== ConnState.Piping && !b.responses.raw) return; // an idle stream lost: the next request opens another
    const refused = err instanceof StreamResetError && err.reason === ResetCode.REFUSED;
    if (refused && !b.confirmed && b.replay && b.attempt < MAX_ATTEMPTS - 1 && !core.closing) {
      this.replay(b);
      return;
    }
    if (err instanceof SessionClosedError && this.rescue(b)) return;
    if (b.answerable) {
      const f = failureReply(err);
      core.answer(f.status, f.text);
      core.dropPending(b, f.status);
    } else {
      core.dropPending(b, b.pending[0]?.status ?? 502);
      core.socket.destroy();
    }
  }

  /**
   * The client behind `b` vanished (it turned unresponsive, or its session closed) before a byte
   * of the answers came back: when every request on `b` is bodiless and idempotent and another
   * client serves the host, they are sent there instead (the vanished client may have run them:
   * hence idempotent only). Returns true if it did; otherwise `b` is left as it was.
   */
  rescue(b: Binding): boolean {
    const core = this.core;
    if (b.confirmed || !b.replay || b.attempt >= MAX_ATTEMPTS - 1 || core.closing || b.pending.length === 0) return false;
    for (const p of b.pending) if (!REPLAYABLE_METHODS.has(p.method)) return false;
    const next = core.owner.router.pick(b.host);
    if (!next || next === b.client) return false;
    core.owner.log.debug(
      { host: b.host, from: b.client.hello.clientId, to: next.hello.clientId, requests: b.pending.length },
      'requests replayed: their client vanished',
    );
    core.owner.counters.rescued += b.pending.length;
    core.detach(b);
    if (!b.stream.destroyed) b.stream.reset(ResetCode.CANCEL);
    this.replay(b, next);
    return true;
  }

  /** The client behind `b` never touched its bytes (it was draining) or vanished: replay them on `picked` or another. */
  private replay(b: Binding, picked?: ClientConn): void {
    const core = this.core;
    const nb = this.reopen(b.pending[0], b.host, b.attempt + 1, picked);
    if (!nb) {
      core.dropPending(b, 0);
      return;
    }
    nb.adopt(b);
    for (const bytes of b.replay ?? []) core.send(nb, bytes, true);
    core.armResponseTimer();
  }
}
