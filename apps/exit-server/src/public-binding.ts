import type { TunnelStream } from '@tunnel/tunnel-protocol';
import type { ClientConn } from './client-conn.ts';
import type { RequestSeries } from './metrics/exit-metrics.ts';
import type { ResponseHead } from './http1/head.ts';
import type { MessageReader } from './http1/reader.ts';

/** A request sent down the tunnel whose response has not completed. */
export interface Pending {
  /** Request method (a HEAD answer has no body). */
  readonly method: string;
  /** Hostname it was routed by. */
  readonly host: string;
  /** Request target, for the log line. */
  readonly target: string;
  /** When it was forwarded, `performance.now()` ms. */
  readonly started: number;
  /** Status of the response head; undefined until it arrives. */
  status: number | undefined;
  /** Sticky-cookie value to set on the response (the request did not carry this client's). */
  setCookie: string | undefined;
  /** The request's id (kept from a trusted proxy or generated), sent upstream as X-Request-Id. */
  readonly requestId: string;
  /** The public client's address (with --trust-proxy: the last X-Forwarded-For entry). */
  readonly remote: string;
  /** When the response head arrived, `performance.now()` ms; -1 until then. */
  firstByte: number;
  /** Request bytes forwarded upstream (head as re-written, and body). */
  bytesIn: number;
  /** Response bytes sent to the public client (heads and body). */
  bytesOut: number;
}

/** A public connection's ride on one tunnel stream (one upstream connection behind it). */
export class Binding {
  /** Requests forwarded and not yet answered in full, oldest first. */
  readonly pending: Pending[] = [];
  /** Response bytes arrived: what was sent can no longer be replayed elsewhere. */
  confirmed = false;
  /** Bytes sent while unconfirmed, kept while every request was bodiless; null once replay is impossible. */
  replay: Buffer[] | null = [];
  /** Frames the responses coming back. */
  responses!: MessageReader<ResponseHead>;
  /** The head just framed was interim (1xx): its bodiless "end" does not answer the request. */
  interim = false;
  /** A request or response said `Connection: close`: when the upstream closes, the public connection follows. */
  closeAfter = false;
  /** Metric series of this binding's requests (its host and client). */
  series!: RequestSeries;
  /** When it was last used, in its PublicStreams' count of uses (orders the least recently used). */
  usedAt = 0;

  constructor(
    /** The edge client carrying the stream. */
    readonly client: ClientConn,
    /** The tunnel stream. */
    readonly stream: TunnelStream,
    /** Hostname the connection is routed by; another Host moves it. */
    readonly host: string,
    /** How many clients refused it before this one. */
    readonly attempt: number,
  ) {}

  /**
   * A new request on this idle stream: until its answer starts, what is sent from here may be
   * replayed elsewhere again (the answers before it are complete: nothing of them is at stake).
   */
  reuse(): void {
    this.confirmed = false;
    this.replay = [];
  }

  /** Nothing in flight: no request owed a response, no partial response, not a byte pipe. */
  get idle(): boolean {
    return this.pending.length === 0 && this.responses.idle;
  }

  /** A request is owed a response whose head has not arrived. */
  get awaitingHead(): boolean {
    return this.pending.length > 0 && this.pending[0].status === undefined;
  }

  /**
   * No byte of the oldest request's response has reached the public client, so a failure can
   * still be answered with an error status in its place (after which the connection closes).
   */
  get answerable(): boolean {
    return this.responses.idle && this.awaitingHead;
  }

  /**
   * Takes over `from`'s requests, whose client refused them unseen (it was draining): they are
   * this binding's client's now, in its in-flight and served counts.
   */
  adopt(from: Binding): void {
    const n = from.pending.length;
    this.pending.push(...from.pending);
    from.client.inFlight -= n;
    from.client.requestsServed -= n;
    this.client.inFlight += n;
    this.client.requestsServed += n;
  }
}
