import { createCipheriv, createHash } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

/** A buffered response (small bodies only; large ones use `download`). */
export interface SimpleResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request (fresh connection unless an agent is given). */
export function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer | Readable; agent?: Agent; timeoutMs?: number } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`no response within ${opts.timeoutMs ?? 60_000} ms`)));
    req.on('error', reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}

/** GET / through the tunnel: which sample app answered. */
export async function whoAnswers(baseUrl: string, agent?: Agent): Promise<{ status: number; instance?: string; body: string }> {
  const res = await httpRequest(`${baseUrl}/`, { agent });
  let instance: string | undefined;
  try {
    instance = (JSON.parse(res.body) as { instance?: string }).instance;
  } catch {
    instance = undefined;
  }
  return { status: res.status, instance, body: res.body };
}

/** Streams a download, hashing it on the fly; never holds the body. */
export function download(url: string): Promise<{ status: number; bytes: number; sha256: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
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

/**
 * SHA-256 of what the sample app's `GET /bytes/:n?seed=` sends, computed here independently from
 * its documented definition: the AES-128-CTR keystream, key = first 16 bytes of SHA-256 of the
 * seed in decimal, IV all zeros.
 */
export function pseudoRandomSha256(seed: number, length: number): string {
  const key = createHash('sha256').update(String(seed)).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  const hash = createHash('sha256');
  for (let left = length; left > 0;) {
    const n = Math.min(left, zeros.length);
    hash.update(cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n)));
    left -= n;
  }
  return hash.digest('hex');
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
      for (let i = 0; i + 4 <= n; i += 4) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        chunk.writeUInt32LE(x, i);
      }
      for (let i = n - (n % 4); i < n; i++) chunk[i] = i & 0xff;
      hash.update(chunk);
      left -= n;
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** Outcome of one request of a {@link Load}. */
export interface LoadSample {
  readonly start: number;
  readonly end: number;
  /** HTTP status, or 0 when the request failed without a response. */
  readonly status: number;
  readonly error?: string;
  readonly body: string;
}

/**
 * Closed-loop load: `concurrency` workers, each sending one request after the other over
 * keep-alive connections, until `stop()`. Records every outcome with its start and end time.
 */
export class Load {
  readonly samples: LoadSample[] = [];
  private running = true;
  private readonly agent: Agent;
  private readonly workers: Array<Promise<void>>;
  private readonly completionWaiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(
    private readonly url: string,
    concurrency: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    this.workers = Array.from({ length: concurrency }, () => this.worker());
  }

  private async worker(): Promise<void> {
    while (this.running) {
      const start = Date.now();
      let sample: LoadSample;
      try {
        const res = await httpRequest(this.url, { agent: this.agent, timeoutMs: 30_000 });
        sample = { start, end: Date.now(), status: res.status, body: res.body.slice(0, 300) };
      } catch (err) {
        sample = { start, end: Date.now(), status: 0, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message, body: '' };
      }
      this.samples.push(sample);
      for (const w of [...this.completionWaiters]) {
        if (this.samples.length >= w.n) {
          this.completionWaiters.splice(this.completionWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  }

  /** Resolves once `n` more requests than now have completed. */
  completeMore(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.samples.length + n;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load: ${n} more requests did not complete within ${timeoutMs} ms`)), timeoutMs);
      this.completionWaiters.push({
        n: target,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Stops sending, waits for the requests in flight, returns every sample. */
  async stop(): Promise<LoadSample[]> {
    this.running = false;
    await Promise.all(this.workers);
    this.agent.destroy();
    return this.samples;
  }
}

/** Counts by key. */
export function tally<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
