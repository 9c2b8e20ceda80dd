import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

/** A buffered response (small bodies only; large ones use `download`). */
export interface SimpleResponse {
  /** HTTP status code. */
  readonly status: number;
  /** Response headers, lower-cased names. */
  readonly headers: IncomingHttpHeaders;
  /** The body, decoded as UTF-8. */
  readonly body: string;
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  /** Method (default GET). */
  readonly method?: string;
  /** Host header to send instead of the URL's (routing by host through one public port). */
  readonly host?: string;
  /** Request headers. */
  readonly headers?: Record<string, string>;
  /** Request body: bytes, or a stream piped into the request. */
  readonly body?: string | Buffer | Readable;
  /** Connection pool; without one every request takes a fresh connection. */
  readonly agent?: Agent;
  /** Fails the request when no response has come within this many milliseconds (default 60 000). */
  readonly timeoutMs?: number;
}

/** The default of {@link HttpRequestOptions.timeoutMs}, milliseconds. */
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * One HTTP/1.1 request, on a fresh connection unless `agent` keeps them alive. Rejects on a
 * network error, an aborted response or the timeout.
 */
export function httpRequest(url: string, opts: HttpRequestOptions = {}): Promise<SimpleResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.host ? { host: opts.host } : {}), ...opts.headers };
    const req = request(url, { method: opts.method ?? 'GET', headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}
