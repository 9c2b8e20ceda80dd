// Summary statistics over per-round figures.

/** `{ median, min, max, n }` of the finite values of a series; all null when there are none. */
export interface Summary {
  /** Median (mean of the two middle values for an even count). */
  readonly median: number | null;
  /** Smallest value. */
  readonly min: number | null;
  /** Largest value. */
  readonly max: number | null;
  /** How many finite values there were. */
  readonly n: number;
}

/** Median of finite numbers (mean of the two middle values for an even count); null if none. */
export function median(values: readonly unknown[]): number | null {
  const xs = finite(values).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** `{ median, min, max, n }` of the finite values; all null when there are none. */
export function summarize(values: readonly unknown[]): Summary {
  const xs = finite(values);
  if (xs.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

function finite(values: readonly unknown[]): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}
