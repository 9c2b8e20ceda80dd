// The request shapes the benchmark measures, shared by the upstream and the orchestrator.

/** Body size of GET /small (a JSON document), bytes. */
export const SMALL_BYTES = 99;
/** Body size of GET /big (1 MiB), bytes. */
export const BIG_BYTES = 1024 * 1024;
/** Body size of each POST /upload (10 MB), bytes. */
export const UPLOAD_BYTES = 10 * 1000 * 1000;

/** A figure a shape can be judged by. */
export type Headline = 'reqPerSec' | 'mbPerSec';

/**
 * One load shape: which path, how many concurrent connections, and the figure it is judged by
 * (`headline`, also the one compared against DIRECT and ssh -R). `upload` shapes send
 * `bodyBytes` per request and their MB/s counts the request bodies (autocannon's own throughput
 * counts only what it reads back).
 */
export interface Shape {
  /** Name in the report and the JSON (`small`, `download`, `upload`). */
  readonly name: string;
  /** HTTP method. */
  readonly method: 'GET' | 'POST';
  /** Request path on the upstream. */
  readonly path: string;
  /** Concurrent connections of the load generator. */
  readonly connections: number;
  /** Response body size (GET) or request body size (upload), bytes. */
  readonly bodyBytes: number;
  /** The figure the shape is judged by. */
  readonly headline: Headline;
  /** True when requests carry a `bodyBytes` body. */
  readonly upload?: boolean;
}

/** The shapes, in report order. */
export const SHAPES: readonly Shape[] = [
  { name: 'small', method: 'GET', path: '/small', connections: 100, bodyBytes: SMALL_BYTES, headline: 'reqPerSec' },
  { name: 'download', method: 'GET', path: '/big', connections: 10, bodyBytes: BIG_BYTES, headline: 'mbPerSec' },
  { name: 'upload', method: 'POST', path: '/upload', connections: 4, bodyBytes: UPLOAD_BYTES, headline: 'mbPerSec', upload: true },
];

/** The raw TCP stream: bytes pushed through one connection (full mode; --quick sends less). */
export const TCP_STREAM_BYTES = 1024 ** 3;
/** The raw TCP stream's bytes in --quick mode. */
export const TCP_STREAM_BYTES_QUICK = 256 * 1024 ** 2;
