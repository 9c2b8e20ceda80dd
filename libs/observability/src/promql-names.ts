/** The names a PromQL expression refers to. */
export interface PromqlNames {
  /** Metric (sample) names, e.g. `tunnel_http_request_duration_seconds_bucket`. */
  readonly metrics: string[];
  /** Label names it matches on or groups by. */
  readonly labels: string[];
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);
/** Aggregations, which may be followed by `by (...)` rather than by their parenthesis. */
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/**
 * Pulls metric and label names out of a PromQL expression, well enough to check a dashboard
 * against what an app exports: identifiers before `(` are functions (or, after by/without/on,
 * grouping labels); identifiers in `{...}` before a matcher are labels; the rest are metrics.
 * String literals, range/offset durations and numbers are skipped.
 */
export function promqlNames(expr: string): PromqlNames {
  const metrics = new Set<string>();
  const labels = new Set<string>();
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?\d+[a-z]+/gi, 'offset');
  let depthBraces = 0;
  let grouping = false;
  const token = /[a-zA-Z_:][a-zA-Z0-9_:]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|[{}()]/g;
  let m: RegExpExecArray | null;
  let previous = '';
  while ((m = token.exec(text))) {
    const t = m[0];
    if (t === '{') depthBraces++;
    else if (t === '}') depthBraces--;
    else if (t === ')') grouping = false;
    else if (t === '(') grouping = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(previous);
    else if (/^\d/.test(t)) {
      // a number
    } else if (depthBraces > 0 || grouping) labels.add(t);
    else if (!KEYWORDS.has(t.toLowerCase()) && !AGGREGATIONS.has(t) && !/^\s*\(/.test(text.slice(token.lastIndex))) metrics.add(t);
    previous = t;
  }
  return { metrics: [...metrics], labels: [...labels] };
}
