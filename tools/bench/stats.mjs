// Summary statistics over per-round figures.

/** Median of finite numbers (mean of the two middle values for an even count); null if none. */
export function median(values) {
  const xs = finite(values).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** `{ median, min, max, n }` of the finite values; all null when there are none. */
export function summarize(values) {
  const xs = finite(values);
  if (xs.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

function finite(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}
