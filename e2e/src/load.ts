import { httpRequest } from '@tunnel/testing';

/** Outcome of a continuous load. */
export interface LoadResult {
  /** Requests sent. */
  readonly total: number;
  /** Requests answered 200. */
  readonly ok: number;
  /** Every other outcome: a status or a network error. */
  readonly failures: string[];
  /** Requests answered 200, per `instance` in the body. */
  readonly byInstance: Record<string, number>;
}

/** A load running until stopped. */
export interface Load {
  /** Requests answered so far. */
  readonly done: () => number;
  /** Stops sending, waits for the requests in flight, and returns the tally. */
  stop(): Promise<LoadResult>;
}

/**
 * `concurrency` loops of GET `url`, each request on a fresh connection (as many short
 * connections through an L4 load balancer land on every backend), until stopped.
 */
export function startLoad(url: string, concurrency = 4): Load {
  let running = true;
  let total = 0;
  let ok = 0;
  const failures: string[] = [];
  const byInstance: Record<string, number> = {};
  const worker = async () => {
    while (running) {
      total++;
      try {
        const res = await httpRequest(url);
        if (res.status === 200) {
          ok++;
          const inst = (JSON.parse(res.body) as { instance?: string }).instance ?? '?';
          byInstance[inst] = (byInstance[inst] ?? 0) + 1;
        } else {
          failures.push(`HTTP ${res.status}: ${res.body.slice(0, 120)}`);
        }
      } catch (err) {
        failures.push(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    done: () => ok + failures.length,
    async stop() {
      running = false;
      await Promise.all(workers);
      return { total, ok, failures, byInstance };
    },
  };
}
