import { HttpError, type TunnelStream } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import { failureReply } from './errors-to-status.ts';
import { parseResponseHead, type ResponseHead } from './http1/head.ts';
import { MessageReader } from './http1/reader.ts';
import { Binding, type Pending } from './public-binding.ts';
import type { ConnCore } from './public-conn-core.ts';
import type { ResponseSide } from './public-responses.ts';
import { MAX_STREAMS_PER_CONNECTION } from './public-streams.ts';
import { openReclaiming } from './stream-reclaim.ts';

/** Largest upstream response head, bytes (cookies make these bigger than request heads). */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/**
 * Binds the requests of one public connection to tunnel streams: picks the client for a
 * request (by the policy, the sticky cookie, or the connection's current stream with
 * `--balance connection`) and reuses the stream held on it, or opens one there, wiring its
 * bytes to the response side. On failure the request is answered with its status here.
 */
export class Binder {
  constructor(
    private readonly core: ConnCore,
    private readonly responses: ResponseSide,
  ) {}

  /**
   * The binding for a request that may go anywhere (nothing is owed on this connection): the
   * stream held on the client the policy (or the sticky cookie) picks, else a new one (see
   * open). With `--balance connection` the active stream stays while its client serves the
   * Host, and is the only one held.
   */
  choose(p: Pending, authority: string, cookie: string | undefined): Binding | undefined {
    const { core } = this;
    const host = p.host;
    const active = core.streams.active;
    const preferred = cookie === undefined ? undefined : core.owner.router.sticky?.clientsFor(cookie);
    const perConnection = core.owner.opts.balance === 'connection';
    if (
      perConnection &&
      active &&
      active.host === host &&
      active.client.available &&
      !active.client.unresponsive &&
      (!preferred?.length || preferred.includes(active.client))
    ) {
      if (active.idle) active.reuse();
      return active;
    }
    const router = core.owner.router;
    const client = perConnection ? router.pick(host, preferred) : router.pickInTurn(host, preferred);
    if (perConnection && active && active.client !== client) core.release(active);
    const held = client && core.streams.get(client);
    // The fast path (see open), without a second look-up.
    if (held && held.idle && held.host === host) return core.streams.use(held);
    if (client && !held && core.streams.size >= MAX_STREAMS_PER_CONNECTION) {
      const lru = core.streams.leastRecentIdle();
      if (lru) core.release(lru);
    }
    return this.open(p, authority, 0, client ?? null);
  }

  /**
   * The binding for request `h` (to its host) on `client` (undefined: the next the router
   * picks; null: none serves it): the stream held there, or a new one; answers the request
   * itself on failure.
   */
  open(h: Pending, authority: string, attempt: number, picked?: ClientConn | null): Binding | undefined {
    const { core } = this;
    const host = h.host;
    const client = picked === undefined ? core.owner.router.pick(host) : picked;
    if (!client) {
      core.owner.counters.noRoute++;
      core.answer(503, `no tunnel is connected for ${host || 'this host'}`);
      core.owner.requestDone(h, 503, undefined);
      return undefined;
    }
    // The fast path: ride the stream already held on this client (idle, since only the active
    // one can owe responses), unless it carries another Host's upstream connection. A request
    // replayed after a refusal lands here too.
    const held = core.streams.get(client);
    if (held && held.idle && held.host === host) return core.streams.use(held);
    if (held) core.release(held);
    let stream: TunnelStream;
    try {
      stream = this.openStream(h, authority, client);
    } catch (err) {
      const f = failureReply(err);
      core.answer(f.status, f.text);
      core.owner.requestDone(h, f.status, client);
      return undefined;
    }
    const b = this.bind(client, stream, host, attempt);
    core.streams.add(b);
    core.owner.bind(core, client.session);
    return b;
  }

  /** Opens a tunnel stream to `client` for request `h`; throws as Session.openStream does. */
  private openStream(h: Pending, authority: string, client: ClientConn): TunnelStream {
    const { core } = this;
    const head = {
      kind: 'http',
      method: h.method,
      target: h.target,
      authority,
      remoteAddress: core.remoteAddress,
      remotePort: core.socket.remotePort ?? 0,
    } as const;
    return openReclaiming(client.session, head, () => core.owner.reclaimIdle(client.session));
  }

  /** A binding on a new stream, its bytes framed into responses for the response side. */
  private bind(client: ClientConn, stream: TunnelStream, host: string, attempt: number): Binding {
    const { core, responses } = this;
    const b = new Binding(client, stream, host, attempt);
    b.series = core.owner.metrics.requestSeries(host, client);
    b.responses = new MessageReader<ResponseHead>(
      (head) => parseResponseHead(head, b.pending[0]?.method ?? 'GET'),
      Math.max(MAX_RESPONSE_HEAD_BYTES, core.owner.opts.maxHeaderBytes),
      { head: (r, raw) => responses.onHead(b, r, raw), body: (p) => core.write(p, b), end: () => responses.onEnd(b) },
      () => new HttpError('TUN_ERR_BAD_RESPONSE', 502, 'response head too large'),
      (detail) => new HttpError('TUN_ERR_BAD_RESPONSE', 502, detail),
    );
    stream.setSink({
      write: (chunk) => {
        responses.onData(b, chunk);
        return !core.socket.writableNeedDrain;
      },
    });
    stream.on('end', () => responses.onStreamEnd(b));
    stream.on('error', (err: Error) => responses.onStreamError(b, err));
    return b;
  }
}
