/** Statuses whose Retry-After the edge client honours: the server is full (503) or rate-limits this address (429). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * Jitter added on top of the honoured wait, as a fraction of it: a fleet refused together (a
 * full exit server answering every client the same Retry-After) comes back spread over half
 * the wait again, not in lockstep.
 */
const RETRY_AFTER_JITTER = 0.5;

/**
 * Seconds from a Retry-After header (delta-seconds or an HTTP date, RFC 9110 10.2.3), or
 * undefined when absent or unreadable. `nowMs` is the clock for the date form.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // A date has a weekday and month name; V8 would read '-3' as the year -3.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, (at - nowMs) / 1000);
}

/**
 * How long to wait before dialing again after a refused handshake that carried Retry-After, ms:
 * the server's wait, clamped to `maxMs` (--reconnect-max: a server cannot park a client for
 * longer than its own backoff would), plus up to {@link RETRY_AFTER_JITTER} of it at random.
 * Undefined when the status is not one that asks to come back later, or no Retry-After came.
 */
export function retryAfterDelayMs(
  status: number,
  retryAfterS: number | undefined,
  maxMs: number,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterS === undefined || !RETRY_AFTER_STATUSES.has(status)) return undefined;
  const waitMs = Math.min(maxMs, retryAfterS * 1000);
  return Math.round(waitMs * (1 + RETRY_AFTER_JITTER * random()));
}
