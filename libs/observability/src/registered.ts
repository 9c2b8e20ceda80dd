import type { Metric, MetricType, Registry } from 'prom-client';

/** A sample as prom-client's registry formats it. */
export interface RawSample {
  /** Label values; `le` for histogram buckets. */
  readonly labels: Readonly<Record<string, string | number>>;
  /** Value. */
  readonly value: number;
  /** Sample name when it differs from the family's (`_bucket`, `_sum`, `_count`). */
  readonly metricName?: string;
}

/**
 * Registers a family whose samples are produced at scrape time by `samples()`. The registry
 * only needs `name`, `get()` and `reset()` of a metric; prom-client's own classes would hash the
 * labels on every update, which is what our cells avoid.
 */
export function registerCollected(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  samples: () => RawSample[],
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type: type as unknown as MetricType, aggregator: 'sum', values: samples() };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Metric);
}
