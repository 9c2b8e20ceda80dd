/** Label value that stands for every label set past a family's bound (and for unknown hosts). */
export const OTHER = '_other';

/** Label values of one series, by label name. */
export type Labels<L extends string> = Readonly<Record<L, string>>;

/**
 * The series of one metric family, created on first use and looked up by their label values.
 * Callers resolve a series once (per connection, per stream) and then update its plain number
 * fields, so the hot path allocates nothing and hashes nothing. The number of series is
 * bounded: past `maxSeries`, new label sets share one series whose every label is `_other`.
 */
export class SeriesMap<L extends string, S> {
  private readonly byKey = new Map<string, S & { readonly labels: Labels<L> }>();
  private overflow: (S & { readonly labels: Labels<L> }) | undefined;

  constructor(
    /** Label names, in exposition order. */
    readonly labelNames: readonly L[],
    /** Most distinct label sets kept (count); more collapse into the `_other` series. */
    readonly maxSeries: number,
    private readonly create: (labels: Labels<L>) => S,
  ) {}

  /** The series for `labels`, created on first use. Not for the per-request path: cache the result. */
  get(labels: Labels<L>): S & { readonly labels: Labels<L> } {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    const found = this.byKey.get(key);
    if (found) return found;
    if (this.byKey.size >= this.maxSeries) {
      if (!this.overflow) {
        const other = {} as Record<L, string>;
        for (const name of this.labelNames) other[name] = OTHER;
        this.overflow = withLabels(this.create(other), other);
      }
      return this.overflow;
    }
    const frozen = Object.freeze({ ...labels });
    const series = withLabels(this.create(frozen), frozen);
    this.byKey.set(key, series);
    return series;
  }

  /** Forgets the series whose labels match `test` (e.g. of a client that left), so their count stays bounded. */
  drop(test: (labels: Labels<L>) => boolean): void {
    for (const [key, s] of this.byKey) if (test(s.labels)) this.byKey.delete(key);
  }

  /** Every series, the overflow one last. */
  *all(): IterableIterator<S & { readonly labels: Labels<L> }> {
    yield* this.byKey.values();
    if (this.overflow) yield this.overflow;
  }

  /** Number of series held, the overflow one included. */
  get size(): number {
    return this.byKey.size + (this.overflow ? 1 : 0);
  }
}

function withLabels<L extends string, S>(series: S, labels: Labels<L>): S & { readonly labels: Labels<L> } {
  return Object.assign(series as object, { labels }) as S & { readonly labels: Labels<L> };
}
