import { createHash } from 'node:crypto';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

/** What {@link download} saw: the body's size and digest instead of the body. */
export interface Downloaded {
  /** HTTP status code. */
  readonly status: number;
  /** Body bytes received. */
  readonly bytes: number;
  /** SHA-256 of the body, hex. */
  readonly sha256: string;
  /** Response headers, lower-cased names. */
  readonly headers: IncomingHttpHeaders;
}

/** Streams a GET, hashing the body on the fly; never holds it. Fresh connection unless `agent`. */
export function download(url: string, agent?: Agent): Promise<Downloaded> {
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
      res.on('aborted', () => reject(new Error('download aborted')));
    });
    req.on('error', reject);
    req.end();
  });
}
