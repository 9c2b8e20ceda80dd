import { Agent } from 'node:http';
import { httpRequest } from '@tunnel/testing';

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
