import { createHash } from 'node:crypto';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

/** A buffered response (small bodies only; large ones use `download`). */
export interface SimpleResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request, on a fresh connection unless `agent` keeps them alive, with an optional Host header. */
export function httpRequest(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string | Buffer | Readable; agent?: Agent } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}

/** Streams a download, hashing it on the fly; never holds the body. */
export function download(
  url: string,
  agent?: Agent,
): Promise<{ status: number; bytes: number; sha256: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A readable of `size` deterministic bytes and its sha256 (computed while generating). */
export function generatedBody(size: number, seed = 7): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = size;
  let x = seed;
  const stream = new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, 256 * 1024);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        chunk.writeUInt32LE(x, i);
      }
      hash.update(chunk);
      left -= n;
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}
