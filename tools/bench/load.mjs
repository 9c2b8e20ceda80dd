// Runs autocannon as a child process (`--json`), bounded by duration (-d) or amount (-a), and
// condenses its JSON into the figures the report uses.
import { createRequire } from 'node:module';
import { startChild, stopChild } from './children.mjs';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
/** Hard cap on top of the requested duration (startup, the last in-flight requests, timeouts). */
const SLACK_MS = 30_000;
/** Per-request timeout in seconds. */
const REQUEST_TIMEOUT_S = 10;

/**
 * Loads `url` with `connections` concurrent connections for `durationSec` seconds, or for
 * `amount` requests when given. Resolves `{ figures, raw }` (raw = autocannon's JSON).
 */
export async function runLoad({ url, connections, durationSec, amount, method = 'GET', bodyFile, expectBody, uploadBytes }) {
  const bound = amount !== undefined ? ['-a', `${amount}`] : ['-d', `${durationSec}`];
  const body = bodyFile
    ? ['-m', method, '-i', bodyFile, '-H', 'content-type=application/octet-stream']
    : method !== 'GET'
      ? ['-m', method]
      : [];
  const expect = expectBody !== undefined ? ['-E', `${expectBody}`] : [];
  const args = [AUTOCANNON, '--json', '-c', `${connections}`, '-t', `${REQUEST_TIMEOUT_S}`, ...bound, ...body, ...expect, url];
  const proc = startChild('autocannon', process.execPath, args);
  const capMs = (amount !== undefined ? 120_000 : durationSec * 1000) + SLACK_MS;
  let timer;
  const timedOut = new Promise((resolve) => {
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
  const raw = JSON.parse(line);
  return { figures: figuresOf(raw, uploadBytes), raw };
}

/**
 * The figures the benchmark reports, from autocannon's JSON. With `uploadBytes` (request body
 * size), MB/s counts the request bodies of completed requests instead of the bytes read back.
 */
export function figuresOf(raw, uploadBytes) {
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
export function latencyPercentiles(latency) {
  return Object.entries(latency ?? {})
    .map(([k, v]) => [/^p(\d+)(?:_(\d+))?$/.exec(k), v])
    .filter(([m, v]) => m && typeof v === 'number')
    .map(([m, v]) => [Number(`${m[1]}.${m[2] ?? 0}`), v])
    .sort((a, b) => a[0] - b[0]);
}
