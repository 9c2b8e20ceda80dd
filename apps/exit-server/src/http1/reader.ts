import { HTTP_TOKEN, HttpError, ownBytes, readNow, type Borrowed } from '@tunnel/tunnel-protocol';
import { ChunkedScanner } from './chunked.ts';
import type { BodyFraming } from './head.ts';
import { HeldBytes } from './held-bytes.ts';

/** What a {@link MessageReader} reports, in byte order. */
export interface ReaderEvents<H> {
  /**
   * A complete head; `raw` is its bytes including the blank line. Returning false refuses it
   * for now: the reader pauses before it and parses it again on {@link MessageReader.resume}.
   */
  head(head: H, raw: Buffer): boolean | void;
  /** Body bytes exactly as received (chunked framing included); slices of the input, never copies (valid only during the call when the input was borrowed). */
  body(piece: Buffer): void;
  /** The message's body is complete (not called for close-delimited or raw bodies). */
  end(): void;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

const enum S {
  Head,
  Length,
  Chunked,
  /** Everything until the connection ends: a close-delimited body or a switched protocol. */
  Raw,
  /** After the last message of a connection (see stopAfterMessage): every byte is dropped. */
  Discard,
}

/**
 * Splits an HTTP/1.1 byte stream into heads and body pieces without buffering bodies: body
 * bytes come out as slices of the chunks pushed in. One reader serves a whole connection
 * (keep-alive, pipelining); {@link pause} stops it between events, holding the rest of the
 * current chunk, for the caller to stop reading its socket meanwhile.
 */
export class MessageReader<H extends { readonly framing: BodyFraming }> {
  private state = S.Head;
  private partialHead: Buffer | undefined;
  private remaining = 0;
  private readonly chunked: ChunkedScanner;
  private paused = false;
  /** The current message is the connection's last (see stopAfterMessage). */
  private last = false;
  private readonly held: HeldBytes;

  /**
   * @param parse Parses head bytes (without the blank line); throws {@link HttpError}.
   * @param maxHeadBytes Largest head, bytes; more is `tooLarge`.
   * @param tooLarge Builds the error for an oversized head, given its bytes so far (over `maxHeadBytes`).
   * @param fail Builds the error for malformed chunked framing, or a head that cannot become valid.
   * @param hold Most bytes kept while paused, bytes, and the error past it (default: unbounded,
   *   for readers that are never paused).
   */
  constructor(
    private readonly parse: (head: Buffer) => H,
    private readonly maxHeadBytes: number,
    private readonly events: ReaderEvents<H>,
    private readonly tooLarge: (head: Buffer) => HttpError,
    private readonly fail: (detail: string) => HttpError,
    hold?: { readonly maxBytes: number; readonly over: (max: number) => HttpError },
  ) {
    this.chunked = new ChunkedScanner(maxHeadBytes, fail);
    this.held = new HeldBytes(hold?.maxBytes ?? Number.POSITIVE_INFINITY, hold?.over ?? ((max) => fail(`more than ${max} bytes held`)));
  }

  /** Bytes held while paused. */
  get heldBytes(): number {
    return this.held.size;
  }

  /** True between messages, with no partial head buffered. */
  get idle(): boolean {
    return this.state === S.Head && this.partialHead === undefined && this.held.empty;
  }

  /** True once the stream is a raw byte pipe (close-delimited body or switched protocol). */
  get raw(): boolean {
    return this.state === S.Raw;
  }

  /** True while a message's body (length or chunked) is being read. */
  get inBody(): boolean {
    return this.state === S.Length || this.state === S.Chunked;
  }

  /** True while a head has begun but not completed. */
  get inHead(): boolean {
    return this.state === S.Head && this.partialHead !== undefined;
  }

  /**
   * Feeds bytes; events fire synchronously. Throws {@link HttpError} on malformed input. What the
   * reader keeps past the call (a partial head, held bytes) is owned (`ownBytes`); the rest is
   * only read during the call, so the borrowed bytes are read as a Buffer here.
   */
  push(chunk: Borrowed): void {
    if (this.paused) {
      this.held.add(chunk);
      return;
    }
    let data = readNow(chunk);
    let off = 0;
    if (this.state === S.Head && this.partialHead) {
      data = Buffer.concat([this.partialHead, data]);
      this.partialHead = undefined;
    }
    while (off < data.length) {
      if (this.paused) {
        this.held.add(data.subarray(off));
        return;
      }
      switch (this.state) {
        case S.Head:
          off = this.readHead(data, off);
          break;
        case S.Length:
          off = this.readLength(data, off);
          break;
        case S.Chunked:
          off = this.readChunked(data, off);
          break;
        case S.Raw:
          this.events.body(off === 0 ? data : data.subarray(off));
          return;
        case S.Discard:
          return;
      }
    }
  }

  /**
   * Reads a head starting at `off`; returns where the next event starts, or `data.length` when
   * the rest of `data` is kept (a partial head, or held bytes after a refused head).
   */
  private readHead(data: Buffer, off: number): number {
    // Tolerate the CRLFs some clients send between messages (RFC 9112 2.2).
    while (off + 1 < data.length && data[off] === 0x0d && data[off + 1] === 0x0a) off += 2;
    const end = data.indexOf(CRLFCRLF, off);
    if (end < 0) {
      if (data.length - off > this.maxHeadBytes + 3) throw this.tooLarge(data.subarray(off));
      if (off < data.length) {
        this.checkPartial(data, off);
        this.partialHead = ownBytes(data.subarray(off)); // kept past push(): owned
      }
      return data.length;
    }
    if (end - off > this.maxHeadBytes) throw this.tooLarge(data.subarray(off, end));
    const head = this.parse(data.subarray(off, end));
    const raw = data.subarray(off, end + 4);
    if (this.events.head(head, raw) === false) {
      this.paused = true;
      this.held.add(data.subarray(off));
      return data.length;
    }
    // The head handler may have switched to raw (a 101 answer): that wins over the framing.
    if (this.state === S.Head) this.startBody(head.framing);
    if (this.state === S.Head) this.ended();
    return end + 4;
  }

  /**
   * Refuses at once a partial head that cannot become valid, instead of waiting for the head
   * timeout: one that does not start with a token character (a TLS hello, binary noise), or
   * holds a bare LF, since lines end in CRLF and the head only ends at CRLFCRLF (RFC 9112 2.2).
   */
  private checkPartial(data: Buffer, off: number): void {
    const first = data[off];
    // A lone CR may be the start of a blank line between messages (see readHead).
    if (first === 0x0d && off === data.length - 1) return;
    if (!HTTP_TOKEN.test(String.fromCharCode(first))) throw this.fail('not an HTTP message');
    for (let lf = data.indexOf(0x0a, off); lf >= 0; lf = data.indexOf(0x0a, lf + 1)) {
      if (data[lf - 1] !== 0x0d) throw this.fail('a bare LF in the head');
    }
  }

  /** Passes on the part of a content-length body that `data` holds from `off`. */
  private readLength(data: Buffer, off: number): number {
    const take = Math.min(this.remaining, data.length - off);
    this.remaining -= take;
    this.events.body(data.subarray(off, off + take));
    if (this.remaining === 0) this.ended();
    return off + take;
  }

  /** Passes on the part of a chunked body that `data` holds from `off`. */
  private readChunked(data: Buffer, off: number): number {
    const end = this.chunked.scan(data, off);
    const stop = end < 0 ? data.length : end;
    this.events.body(data.subarray(off, stop));
    if (end >= 0) this.ended();
    return stop;
  }

  /** The current message is complete: the next one may start, unless it was the last. */
  private ended(): void {
    this.state = this.last ? S.Discard : S.Head;
    this.events.end();
  }

  /**
   * Makes the current message the last: whatever follows it is dropped, never parsed. A request
   * that closes its connection is the last one processed on it (RFC 9112 9.6), so bytes a client
   * sends after it must not reach the upstream as further requests.
   */
  stopAfterMessage(): void {
    this.last = true;
  }

  /** Stops events after the current one; bytes pushed meanwhile are held. */
  pause(): void {
    this.paused = true;
  }

  /** Resumes, replaying held bytes. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held.take();
    if (held) this.push(held);
  }

  /** From now on every byte is body (a 101 Switching Protocols was answered). */
  switchToRaw(): void {
    this.state = S.Raw;
  }

  private startBody(framing: BodyFraming): void {
    switch (framing.kind) {
      case 'none':
        this.state = S.Head;
        break;
      case 'length':
        this.state = S.Length;
        this.remaining = framing.length;
        break;
      case 'chunked':
        this.state = S.Chunked;
        break;
      case 'close':
        this.state = S.Raw;
        break;
    }
  }
}
