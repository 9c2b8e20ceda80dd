import { performance } from 'node:perf_hooks';
import { readNow, type Borrowed } from '@tunnel/tunnel-protocol';
import { headFields } from './head-fields.ts';

/** One request and its response, as the edge client saw them pass. */
export interface Exchange {
  /** Request method. */
  readonly method: string;
  /** Request target (path and query). */
  readonly target: string;
  /** X-Request-Id the exit server set, if any. */
  readonly requestId: string | undefined;
  /** When the request head had passed, `performance.now()` ms. */
  readonly started: number;
  /** When the response head arrived, ms; -1 if none did. */
  firstByte: number;
  /** Final response status; 0 if none came. */
  status: number;
  /** Request bytes sent to the upstream (head and body). */
  bytesIn: number;
  /** Response bytes from the upstream (heads and body). */
  bytesOut: number;
}

/** Largest head the watcher collects, bytes; a bigger one stops watching that connection. */
export const MAX_WATCHED_HEAD_BYTES = 64 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** What comes next in one direction. */
const enum Part {
  Head,
  Length,
  Chunked,
  /** Response body delimited by the connection's end. */
  UntilClose,
  /** Upgrade request sent: nothing more until the response says 101 or not. */
  Held,
  /** A byte pipe after 101: nothing more to see. */
  Raw,
  /** Watching stopped (something unexpected): bytes still flow, unobserved. */
  Off,
}

/** Body framing of one direction: where the current message ends. */
class Framing {
  part = Part.Head;
  /** Bytes left of a Length body or of the current chunk's data. */
  left = 0;
  /** Chunked sub-state: 0 size line, 1 data, 2 CRLF after data, 3 trailer lines. */
  chunkState = 0;
  /** Bytes of the current line (size or trailer) seen, CR excluded. */
  line = 0;
  /** Chunk size read so far from the size line. */
  size = 0;
  /** The size's hex digits are over (an extension or whitespace follows). */
  sizeDone = false;
  /** Hex digits read. */
  digits = 0;
  /** Head bytes collected so far (copied: the chunks are borrowed). */
  head: Buffer[] = [];
  headBytes = 0;

  /** Consumes a chunked body from `buf[i..]`; returns the index past its end, -1 when it goes on, -2 on nonsense. */
  chunked(buf: Buffer, i: number): number {
    while (i < buf.length) {
      if (this.chunkState === 1) {
        const take = Math.min(this.left, buf.length - i);
        this.left -= take;
        i += take;
        if (this.left === 0) this.chunkState = 2;
        continue;
      }
      const c = buf[i++];
      if (this.chunkState === 2) {
        if (c === 0x0a) this.chunkState = 0;
        continue;
      }
      if (c === 0x0d) continue;
      if (c !== 0x0a) {
        if (++this.line > 4096) return -2;
        if (this.chunkState === 0 && !this.sizeDone) {
          const h = hexValue(c);
          if (h < 0) this.sizeDone = true;
          else if (++this.digits > 13) return -2;
          else this.size = this.size * 16 + h;
        }
        continue;
      }
      const lineLength = this.line;
      this.line = 0;
      if (this.chunkState === 0) {
        if (this.digits === 0) return -2;
        const size = this.size;
        this.size = 0;
        this.digits = 0;
        this.sizeDone = false;
        if (size === 0) this.chunkState = 3;
        else {
          this.left = size;
          this.chunkState = 1;
        }
      } else if (lineLength === 0) {
        // The empty line after the trailers: the body is over.
        this.chunkState = 0;
        return i;
      }
    }
    return -1;
  }
}

/** The collected head as text (latin1: bytes one to one), and the collector emptied. */
function headText(f: Framing): string {
  const text = f.head.length === 1 ? f.head[0].toString('latin1') : Buffer.concat(f.head).toString('latin1');
  f.head = [];
  f.headBytes = 0;
  return text;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Follows HTTP/1.1 exchanges in the two byte streams of one upstream connection, without
 * touching them: the edge client passes bytes through unparsed, and this only looks, to log
 * each request and time it. It reads request heads (which the exit server wrote, so they are
 * well-formed), skips bodies by their framing, reads response heads, and reports each
 * completed exchange. Anything it does not understand stops the watching for that connection,
 * never the traffic.
 */
export class HttpWatch {
  private readonly req = new Framing();
  private readonly res = new Framing();
  /** Requests sent whose response has not completed, oldest first. */
  private readonly queue: Exchange[] = [];

  constructor(
    /** Called once per completed exchange (and for unanswered ones at the end). */
    private readonly done: (e: Exchange) => void,
    /** Called once if watching stops, with why. */
    private readonly gaveUp: (why: string) => void = () => {},
  ) {}

  /** Bytes on their way to the upstream. Never throws: a surprise only stops the watching. */
  request(chunk: Borrowed): void {
    try {
      // Read in one pass during the call; what the watcher keeps of a head is copied (collectHead).
      this.onRequest(readNow(chunk));
    } catch (err) {
      this.stop(`watcher failed: ${(err as Error).message}`);
    }
  }

  /** Bytes from the upstream. Never throws: a surprise only stops the watching. */
  response(chunk: Buffer): void {
    try {
      this.onResponse(chunk);
    } catch (err) {
      this.stop(`watcher failed: ${(err as Error).message}`);
    }
  }

  private onRequest(chunk: Buffer): void {
    const f = this.req;
    let i = 0;
    while (i < chunk.length && f.part !== Part.Off) {
      const last = this.queue[this.queue.length - 1];
      if (f.part === Part.Raw || f.part === Part.Held) {
        if (last) last.bytesIn += chunk.length - i;
        return;
      }
      if (f.part === Part.Head) {
        const end = this.collectHead(f, chunk, i);
        if (end < 0) return;
        const text = headText(f);
        const h = headFields(text);
        const [method, target] = h.first.split(' ');
        if (!method || !target) return this.stop('a request line the watcher does not understand');
        const e: Exchange = {
          method,
          target,
          requestId: h.requestId,
          started: performance.now(),
          firstByte: -1,
          status: 0,
          bytesIn: text.length,
          bytesOut: 0,
        };
        this.queue.push(e);
        i = end;
        const te = h.transferEncoding;
        const cl = h.contentLength;
        if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) f.part = Part.Chunked;
        else if (cl !== undefined && /^\d+$/.test(cl) && Number(cl) > 0) {
          f.part = Part.Length;
          f.left = Number(cl);
        } else f.part = h.upgrade !== undefined ? Part.Held : Part.Head;
        continue;
      }
      const start = i;
      if (f.part === Part.Length) {
        const take = Math.min(f.left, chunk.length - i);
        f.left -= take;
        i += take;
        if (f.left === 0) f.part = Part.Head;
      } else if (f.part === Part.Chunked) {
        const end = f.chunked(chunk, i);
        if (end === -2) return this.stop('a chunked request body the watcher does not understand');
        i = end < 0 ? chunk.length : end;
        if (end >= 0) f.part = Part.Head;
      }
      if (last) last.bytesIn += i - start;
    }
  }

  private onResponse(chunk: Buffer): void {
    const f = this.res;
    let i = 0;
    while (i < chunk.length && f.part !== Part.Off) {
      const e = this.queue[0];
      if (!e) return this.stop('response bytes with no request outstanding');
      if (f.part === Part.Raw) return;
      if (f.part === Part.UntilClose) {
        e.bytesOut += chunk.length - i;
        return;
      }
      if (f.part !== Part.Head) {
        i = this.responseBody(e, chunk, i);
        continue;
      }
      const end = this.collectHead(f, chunk, i);
      if (end < 0) return;
      i = end;
      if (!this.responseHead(e, headText(f))) return;
    }
  }

  /**
   * The response head `text` of `e` has passed: times it and sets the body's framing. False when
   * the rest of the chunk is not to be read: watching stopped, or a 101 made the connection a pipe.
   */
  private responseHead(e: Exchange, text: string): boolean {
    const f = this.res;
    e.bytesOut += text.length;
    const h = headFields(text);
    const status = Number(h.first.split(' ')[1]);
    if (!(status >= 100 && status < 600)) {
      this.stop('a status line the watcher does not understand');
      return false;
    }
    if (status === 101) {
      e.status = 101;
      e.firstByte = performance.now();
      this.finish();
      f.part = Part.Raw;
      this.req.part = Part.Raw;
      return false;
    }
    if (status < 200) return true; // interim: the final head follows
    e.status = status;
    e.firstByte = performance.now();
    // A declined upgrade: the request side speaks HTTP again.
    if (this.req.part === Part.Held) this.req.part = Part.Head;
    const te = h.transferEncoding;
    const cl = h.contentLength;
    if (e.method === 'HEAD' || status === 204 || status === 304) {
      this.finish();
    } else if (te !== undefined) {
      f.part = /(^|,)\s*chunked\s*$/i.test(te) ? Part.Chunked : Part.UntilClose;
    } else if (cl !== undefined && /^\d+$/.test(cl)) {
      if (Number(cl) === 0) this.finish();
      else {
        f.part = Part.Length;
        f.left = Number(cl);
      }
    } else {
      f.part = Part.UntilClose;
    }
    return true;
  }

  /** Skips the Length or Chunked response body of `e` in `chunk[i..]`; returns the index reached (the exchange is done at the body's end). */
  private responseBody(e: Exchange, chunk: Buffer, i: number): number {
    const f = this.res;
    const start = i;
    if (f.part === Part.Length) {
      const take = Math.min(f.left, chunk.length - i);
      f.left -= take;
      i += take;
      e.bytesOut += i - start;
      if (f.left === 0) {
        f.part = Part.Head;
        this.finish();
      }
    } else if (f.part === Part.Chunked) {
      const end = f.chunked(chunk, i);
      if (end === -2) {
        this.stop('a chunked response body the watcher does not understand');
        return i;
      }
      i = end < 0 ? chunk.length : end;
      e.bytesOut += i - start;
      if (end >= 0) {
        f.part = Part.Head;
        this.finish();
      }
    }
    return i;
  }

  /** The upstream connection closed: a close-delimited response ends; unanswered requests are reported with status 0. */
  end(): void {
    try {
      if (this.res.part === Part.UntilClose && this.queue[0]) this.finish();
      while (this.queue.length > 0) this.finish();
    } catch (err) {
      this.gaveUp(`watcher failed: ${(err as Error).message}`);
    }
    this.req.part = Part.Off;
    this.res.part = Part.Off;
  }

  private finish(): void {
    const e = this.queue.shift();
    if (e) this.done(e);
  }

  /** Appends head bytes from `chunk[i..]`; returns the index past the head's end, or -1 while it goes on. */
  private collectHead(f: Framing, chunk: Buffer, i: number): number {
    if (f.headBytes === 0) {
      const at = chunk.indexOf(CRLFCRLF, i);
      if (at >= 0) {
        f.head = [chunk.subarray(i, at + 4)];
        return at + 4;
      }
    }
    // The head straddles reads: gather a copy (the chunks are borrowed) and search across the seam.
    const before = f.headBytes;
    const gathered = Buffer.concat([...f.head, chunk.subarray(i, i + MAX_WATCHED_HEAD_BYTES + 4)]);
    const at = gathered.indexOf(CRLFCRLF, Math.max(0, before - 3));
    if (at < 0) {
      f.head = [gathered];
      f.headBytes = gathered.length;
      if (f.headBytes > MAX_WATCHED_HEAD_BYTES) this.stop('a head over 64 KiB');
      return -1;
    }
    f.head = [gathered.subarray(0, at + 4)];
    return i + at + 4 - before;
  }

  private stop(why: string): void {
    if (this.req.part === Part.Off && this.res.part === Part.Off) return;
    this.req.part = Part.Off;
    this.res.part = Part.Off;
    this.queue.length = 0;
    this.gaveUp(why);
  }
}
