// Tiny loopback HTTP GET for readiness checks (no keep-alive, bounded by a timeout).
import { request, type OutgoingHttpHeaders } from 'node:http';

/** An answer of {@link httpGet}. */
export interface HttpAnswer {
  /** HTTP status code (0 if Node reported none). */
  readonly status: number;
  /** The whole response body. */
  readonly body: Buffer;
}

/** Settings of {@link httpGet}. */
export interface HttpGetOptions {
  /** Request headers (e.g. host, authorization). */
  readonly headers?: OutgoingHttpHeaders;
  /** Give up after this long, ms (default 2000). */
  readonly timeoutMs?: number;
}

/** GET `url`; resolves `{ status, body }`, rejects on network error or after `timeoutMs`. */
export function httpGet(url: string, { headers = {}, timeoutMs = 2000 }: HttpGetOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
