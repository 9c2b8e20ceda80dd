import type { Registry } from 'prom-client';
import { registerCollected, type RawSample } from './registered.ts';
import type { FamilyOptions } from './counter-family.ts';
import { SeriesMap, type Labels } from './series.ts';

/** One histogram series: call {@link observe} on the hot path (no allocation). */
export interface HistogramCell {
  /** Observations per bucket, not cumulative; the last slot is above the largest bound. */
  readonly counts: Float64Array;
  /** Sum of observed values. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/** Request latencies in seconds: 1 ms to 30 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Adds `value` to `cell` (upper bounds `bounds`, ascending). */
export function observe(cell: HistogramCell, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  cell.counts[i]++;
  cell.sum += value;
  cell.count++;
}

/** Settings of a {@link HistogramFamily}. */
export interface HistogramOptions<L extends string> extends FamilyOptions<L> {
  /** Bucket upper bounds, ascending, in the metric's unit. */
  readonly buckets: readonly number[];
}

/**
 * A Prometheus histogram whose series are plain cells: resolve `family.series(labels)` once,
 * then `family.observe(cell, v)` per event; buckets are made cumulative only at scrape time.
 */
export class HistogramFamily<L extends string> {
  private readonly map: SeriesMap<L, HistogramCell>;

  constructor(registry: Registry, opts: HistogramOptions<L>) {
    const bounds = opts.buckets;
    this.bounds = bounds;
    this.map = new SeriesMap<L, HistogramCell>(opts.labelNames, opts.maxSeries ?? 10_000, () => ({
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
    }));
    const map = this.map;
    const bucketName = `${opts.name}_bucket`;
    registerCollected(registry, opts.name, opts.help, 'histogram', () => {
      const values: RawSample[] = [];
      for (const c of map.all()) {
        let acc = 0;
        for (let i = 0; i < bounds.length; i++) {
          acc += c.counts[i];
          values.push({ labels: { ...c.labels, le: bounds[i] }, value: acc, metricName: bucketName });
        }
        values.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: bucketName });
        values.push({ labels: c.labels, value: c.sum, metricName: `${opts.name}_sum` });
        values.push({ labels: c.labels, value: c.count, metricName: `${opts.name}_count` });
      }
      return values;
    });
  }

  /** Bucket upper bounds. */
  readonly bounds: readonly number[];

  /** The series for `labels`. Resolve once and keep it. */
  series(labels: Labels<L>): HistogramCell {
    return this.map.get(labels);
  }

  /** Adds one observation to `cell`. */
  observe(cell: HistogramCell, value: number): void {
    observe(cell, this.bounds, value);
  }

  /** Forgets series whose labels match `test`. */
  drop(test: (labels: Labels<L>) => boolean): void {
    this.map.drop(test);
  }
}
