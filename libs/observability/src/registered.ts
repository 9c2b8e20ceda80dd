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

/** The Prometheus type of a family registered by {@link registerCollected}. */
export type CollectedType = 'counter' | 'gauge' | 'histogram';

/** A family whose samples are read at scrape time: one row of the tables {@link registerCollectedMetrics} takes. */
export interface CollectedMetric {
  /** Metric name, e.g. `tunnel_clients_connected`. */
  readonly name: string;
  /** HELP text. */
  readonly help: string;
  /** Prometheus type. */
  readonly type: CollectedType;
  /** Its samples now (one per label set; an unlabelled family has one with `labels: {}`). */
  readonly samples: () => RawSample[];
}

/**
 * Registers a family whose samples are produced at scrape time by `samples()`. The registry
 * only needs `name`, `get()` and `reset()` of a metric; prom-client's own classes would hash the
 * labels on every update, which is what our cells avoid.
 */
export function registerCollected(registry: Registry, name: string, help: string, type: CollectedType, samples: () => RawSample[]): void {
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

/** Registers each family of `metrics` (see {@link registerCollected}), in order. */
export function registerCollectedMetrics(registry: Registry, metrics: readonly CollectedMetric[]): void {
  for (const m of metrics) registerCollected(registry, m.name, m.help, m.type, m.samples);
}
