/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** Milliseconds between two checks of the condition (default 20). */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout's message (a function is asked at the timeout, to describe the last state). */
  readonly what?: string | (() => string);
}

/**
 * Resolves with the first truthy value `condition` returns, checking it now and then every
 * `intervalMs` until `timeoutMs`; rejects with `what` and the last value (or error) after that.
 * Tests synchronise on a state with this, never on a fixed span of time.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, opts: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'condition');
      // The last error (a failed expect, say) stays the cause, so its diff is not lost.
      throw new Error(`${what} not met within ${timeoutMs} ms (last: ${seen})`, last instanceof Error ? { cause: last } : undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 20));
  }
}
