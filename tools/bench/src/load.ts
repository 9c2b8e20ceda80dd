// Runs autocannon as a child process (`--json`), bounded by duration (-d) or amount (-a), and
// condenses its JSON into the figures the report uses.
import { createRequire } from 'node:module';
import { startChild, stopChild } from './children.ts';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
/** Hard cap on top of the requested duration (startup, the last in-flight requests, timeouts), ms. */
const SLACK_MS = 30_000;
/** Per-request timeout in seconds. */
const REQUEST_TIMEOUT_S = 10;

/** `[percentile, ms]`, e.g. `[99.9, 12.5]`. */
export type Percentile = [number, number];

/** The part of autocannon's `--json` output the benchmark reads (the rest is kept as is). */
export interface AutocannonResult {
  /** Seconds the run lasted. */
  readonly duration: number;
  /** Requests: `average` per second, `total` completed, `sent`. */
  readonly requests: { readonly average: number; readonly total: number; readonly sent?: number };
  /** Latency in ms: p50, p99 and the other `pNN[_D]` percentiles. */
  readonly latency: Record<string, number>;
  /** Bytes per second read back: `average`. */
  readonly throughput: { readonly average: number };
  /** Connection errors (timeouts included). */
  readonly errors: number;
  /** Requests that timed out. */
  readonly timeouts: number;
  /** Responses outside 2xx. */
  readonly non2xx: number;
  /** Responses whose body did not match `-E`. */
  readonly mismatches?: number;
  /** 2xx responses. */
  readonly '2xx': number;
}

/** The figures of one load run. */
export interface Figures {
  /** Seconds the run lasted. */
  readonly durationSec: number;
  /** Requests per second (average). */
  readonly reqPerSec: number;
  /** Median latency, ms. */
  readonly p50Ms: number;
  /** 99th percentile latency, ms. */
  readonly p99Ms: number;
  /** MB/s (10^6 bytes) read back, or of request bodies for uploads. */
  readonly mbPerSec: number;
  /** Latency percentiles, ascending. */
  readonly latency: Percentile[];
  /** Completed requests. */
  readonly requests: number;
  /** 2xx responses. */
  readonly ok: number;
  /** Connection errors (timeouts included). */
  readonly errors: number;
  /** Requests that timed out. */
  readonly timeouts: number;
  /** Responses outside 2xx. */
  readonly non2xx: number;
  /** Failed (errors, non-2xx, body mismatches) per attempted request, 0-1. */
  readonly errorRate: number;
}

/** Settings of {@link runLoad}. */
export interface LoadOptions {
  /** URL to load. */
  readonly url: string;
  /** Concurrent connections. */
  readonly connections: number;
  /** Seconds to run (unless `amount` is given). */
  readonly durationSec?: number;
  /** Number of requests to send instead of a duration. */
  readonly amount?: number;
  /** HTTP method (default GET). */
  readonly method?: string;
  /** File whose content is each request's body. */
  readonly bodyFile?: string;
  /** Expected response body (autocannon -E). */
  readonly expectBody?: string;
  /** Request body size in bytes: MB/s then counts request bodies. */
  readonly uploadBytes?: number;
}

/** A load run: the figures and autocannon's raw JSON. */
export interface LoadRun {
  /** The condensed figures. */
  readonly figures: Figures;
  /** autocannon's JSON. */
  readonly raw: AutocannonResult;
}

/**
 * Loads `url` with `connections` concurrent connections for `durationSec` seconds, or for
 * `amount` requests when given.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadRun> {
  const { url, connections, durationSec, amount, method = 'GET', bodyFile, expectBody, uploadBytes } = opts;
  const bound = amount !== undefined ? ['-a', `${amount}`] : ['-d', `${durationSec}`];
  const body = bodyFile
    ? ['-m', method, '-i', bodyFile, '-H', 'content-type=application/octet-stream']
    : method !== 'GET'
      ? ['-m', method]
      : [];
  const expect = expectBody !== undefined ? ['-E', `${expectBody}`] : [];
  const args = [AUTOCANNON, '--json', '-c', `${connections}`, '-t', `${REQUEST_TIMEOUT_S}`, ...bound, ...body, ...expect, url];
  const proc = startChild('autocannon', process.execPath, args);
  const capMs = (amount !== undefined ? 120_000 : (durationSec ?? 0) * 1000) + SLACK_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), capMs);
  });
  const outcome = await Promise.race([proc.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await stopChild(proc, 1000);
    throw new Error(`autocannon did not finish within ${capMs} ms`);
  }
  if (outcome.code !== 0) {
    throw new Error(`autocannon exited (${outcome.signal ?? `code ${outcome.code}`}) ${proc.stderrTail()}`);
  }
  const line = proc
    .stdout()
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`autocannon printed no JSON ${proc.stderrTail()}`);
  const raw = JSON.parse(line) as AutocannonResult;
  return { figures: figuresOf(raw, uploadBytes), raw };
}

/**
 * The figures the benchmark reports, from autocannon's JSON. With `uploadBytes` (request body
 * size), MB/s counts the request bodies of completed requests instead of the bytes read back.
 */
export function figuresOf(raw: AutocannonResult, uploadBytes?: number): Figures {
  const failed = raw.errors + raw.non2xx + (raw.mismatches ?? 0); // errors include timeouts
  const attempted = Math.max(raw.requests.sent ?? 0, raw.requests.total + raw.errors, 1);
  return {
    durationSec: raw.duration,
    reqPerSec: raw.requests.average,
    p50Ms: raw.latency.p50,
    p99Ms: raw.latency.p99,
    mbPerSec: uploadBytes ? (raw['2xx'] * uploadBytes) / (raw.duration || 1) / 1e6 : raw.throughput.average / 1e6,
    latency: latencyPercentiles(raw.latency),
    requests: raw.requests.total,
    ok: raw['2xx'],
    errors: raw.errors,
    timeouts: raw.timeouts,
    non2xx: raw.non2xx,
    errorRate: failed / attempted,
  };
}

/** autocannon's latency percentiles as `[[percentile, ms], ...]` in ascending order. */
export function latencyPercentiles(latency: Record<string, unknown> | undefined): Percentile[] {
  const out: Percentile[] = [];
  for (const [k, v] of Object.entries(latency ?? {})) {
    const m = /^p(\d+)(?:_(\d+))?$/.exec(k);
    if (m && typeof v === 'number') out.push([Number(`${m[1]}.${m[2] ?? 0}`), v]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}
