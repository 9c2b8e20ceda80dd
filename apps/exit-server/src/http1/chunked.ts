import { HttpError, TCHAR_PUNCTUATION } from '@tunnel/tunnel-protocol';

/** Longest chunk-size line (size and extensions), bytes. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** Most hex digits in a chunk size: 13 keeps sizes below 2^52, exact as a JS number. */
const MAX_SIZE_DIGITS = 13;

/** Where in a chunked body the scanner is; declared in reading order, as `scan` picks its handler by range. */
const enum S {
  Size,
  SizeWs,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  EndLf,
}

/** tchar (RFC 9110 5.6.2), indexed by byte. */
const TCHAR = new Uint8Array(256);
for (const c of TCHAR_PUNCTUATION) TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Finds where a chunked body ends without touching its data (RFC 9112 section 7.1). The bytes are
 * passed on unchanged, so this only has to agree with the upstream on the message's length:
 * anything unusual (no digits, oversized sizes, bare CR or LF, overlong lines or trailers) is an
 * error rather than a guess.
 */
export class ChunkedScanner {
  private state = S.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  /**
   * @param maxTrailerBytes Largest trailer section, bytes.
   * @param fail Builds the error for malformed framing (400 for requests, 502 for responses).
   */
  constructor(
    private readonly maxTrailerBytes: number,
    private readonly fail: (detail: string) => HttpError,
  ) {}

  /** Scans `buf` from `from`; returns the index just past the body's end, or -1 when it goes on. */
  scan(buf: Buffer, from: number): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      const state = this.state;
      if (state === S.Data) {
        const take = Math.min(this.size, n - i);
        this.size -= take;
        i += take;
        if (this.size === 0) this.state = S.DataCr;
        continue;
      }
      const c = buf[i++];
      // The states are declared in line order, so ranges pick the part of the body being read.
      if (state < S.Data) this.sizeLine(c);
      else if (state < S.TrailerStart) this.dataEnd(c);
      else if (state < S.EndLf) this.trailer(c);
      else {
        if (c !== 0x0a) throw this.fail('CR without LF at the end of a chunked body');
        this.reset();
        return i;
      }
    }
    return -1;
  }

  /** One byte of a chunk-size line: the hex size, optional whitespace and extensions, CRLF. */
  private sizeLine(c: number): void {
    switch (this.state) {
      case S.Size: {
        const v = hexValue(c);
        if (v >= 0) {
          if (++this.digits > MAX_SIZE_DIGITS) throw this.fail('chunk size too large');
          this.size = this.size * 16 + v;
        } else if (this.digits === 0) {
          throw this.fail('chunk size expected');
        } else if (c === 0x0d) this.state = S.SizeLf;
        else if (c === 0x3b) this.state = S.Ext;
        else if (c === 0x20 || c === 0x09) this.state = S.SizeWs;
        else throw this.fail('bad chunk size');
        break;
      }
      case S.SizeWs:
        if (c === 0x3b) this.state = S.Ext;
        else if (c === 0x0d) this.state = S.SizeLf;
        else if (c !== 0x20 && c !== 0x09) throw this.fail('bad chunk size line');
        break;
      case S.Ext:
        if (c === 0x0d) this.state = S.SizeLf;
        else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw this.fail('bad chunk extension');
        else if (++this.lineBytes > MAX_CHUNK_LINE_BYTES) throw this.fail('chunk extension too long');
        break;
      default:
        if (c !== 0x0a) throw this.fail('CR without LF after chunk size');
        this.lineBytes = 0;
        this.digits = 0;
        this.state = this.size === 0 ? S.TrailerStart : S.Data;
    }
  }

  /** One byte of the CRLF that closes a chunk's data. */
  private dataEnd(c: number): void {
    if (this.state === S.DataCr) {
      if (c !== 0x0d) throw this.fail('chunk data longer than its size');
      this.state = S.DataLf;
    } else {
      if (c !== 0x0a) throw this.fail('CR without LF after chunk data');
      this.state = S.Size;
    }
  }

  /**
   * One byte of the trailer section. Trailer fields are held to the same rules as header fields:
   * a token name right up to the colon, a value of visible characters, SP and HTAB; no obs-fold,
   * no controls.
   */
  private trailer(c: number): void {
    switch (this.state) {
      case S.TrailerStart:
        if (c === 0x0d) this.state = S.EndLf;
        else if (c === 0x20 || c === 0x09) throw this.fail('obs-fold in trailers');
        else if (TCHAR[c]) {
          this.state = S.TrailerName;
          this.countTrailer();
        } else throw this.fail('bad trailer line');
        break;
      case S.TrailerName:
        if (c === 0x3a) this.state = S.TrailerValue;
        else if (!TCHAR[c]) throw this.fail('bad trailer line');
        this.countTrailer();
        break;
      case S.TrailerValue:
        if (c === 0x0d) this.state = S.TrailerLf;
        else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw this.fail('bad trailer line: control character');
        this.countTrailer();
        break;
      default:
        if (c !== 0x0a) throw this.fail('CR without LF in trailers');
        this.state = S.TrailerStart;
    }
  }

  private countTrailer(): void {
    if (++this.trailerBytes > this.maxTrailerBytes) throw this.fail('trailers too large');
  }

  private reset(): void {
    this.state = S.Size;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
  }
}
