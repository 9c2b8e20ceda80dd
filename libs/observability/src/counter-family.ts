import type { Registry } from 'prom-client';
import { registerCollected } from './registered.ts';
import { SeriesMap, type Labels } from './series.ts';

/** One counter series: increment `value` directly on the hot path. */
export interface CounterCell {
  /** Current count (only ever grows). */
  value: number;
}

/** Settings of a {@link CounterFamily}. */
export interface FamilyOptions<L extends string> {
  /** Metric name, e.g. `tunnel_http_requests_total`. */
  readonly name: string;
  /** HELP text. */
  readonly help: string;
  /** Label names. */
  readonly labelNames: readonly L[];
  /** Most label sets kept (count); default 10,000. More collapse into one `_other` series. */
  readonly maxSeries?: number;
}

/**
 * A Prometheus counter whose series are plain objects: `family.series(labels)` once, then
 * `cell.value += n` per event. prom-client's own `inc(labels)` hashes and validates the labels
 * on every call; here that happens once per series and the exposition reads the cells at scrape.
 */
export class CounterFamily<L extends string> {
  private readonly map: SeriesMap<L, CounterCell>;

  constructor(registry: Registry, opts: FamilyOptions<L>) {
    this.map = new SeriesMap<L, CounterCell>(opts.labelNames, opts.maxSeries ?? 10_000, () => ({ value: 0 }));
    const map = this.map;
    registerCollected(registry, opts.name, opts.help, 'counter', () => [...map.all()].map((c) => ({ labels: c.labels, value: c.value })));
  }

  /** The series for `labels` (created at 0 on first use). Resolve once and keep it. */
  series(labels: Labels<L>): CounterCell {
    return this.map.get(labels);
  }

  /** Forgets series whose labels match `test`. */
  drop(test: (labels: Labels<L>) => boolean): void {
    this.map.drop(test);
  }
}
