/** One sample line of the Prometheus text format. */
export interface Sample {
  /** Sample name (for histograms: `<family>_bucket`, `_sum`, `_count`). */
  readonly name: string;
  /** Label values by name. */
  readonly labels: Readonly<Record<string, string>>;
  /** Value. */
  readonly value: number;
}

/** One metric family: its TYPE, HELP and samples. */
export interface Family {
  /** Family name. */
  readonly name: string;
  /** `counter`, `gauge`, `histogram`, `summary` or `untyped`. */
  type: string;
  /** HELP text. */
  help: string;
  /** Samples in the order listed. */
  readonly samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

function familyOf(families: Map<string, Family>, sample: string): Family | undefined {
  if (families.has(sample)) return families.get(sample);
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (sample.endsWith(suffix)) {
      const f = families.get(sample.slice(0, -suffix.length));
      if (f) return f;
    }
  }
  return undefined;
}

/**
 * Parses the Prometheus text exposition format (0.0.4) into families by name. Strict enough
 * to catch what a scraper would reject: a sample line that does not parse, a value that is not
 * a number, a sample with no TYPE line before it. Throws with the line number.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const f = families.get(meta[2]) ?? { name: meta[2], type: 'untyped', help: '', samples: [] };
      families.set(meta[2], f);
      if (meta[1] === 'TYPE') f.type = meta[3];
      else f.help = meta[3];
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    // Prometheus parses values with Go's ParseFloat, which takes NaN in any case; prom-client
    // writes it as `Nan` (e.g. the event-loop lag mean before its first sample).
    const isNaNText = /^nan$/i.test(m[3]);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : isNaNText ? NaN : Number(m[3]);
    if (Number.isNaN(value) && !isNaNText) throw new Error(`line ${i + 1}: bad value ${m[3]}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const rest = m[2].replace(LABEL, (_all, k: string, v: string) => {
        labels[k] = v.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        return '';
      });
      if (rest.trim() !== '') throw new Error(`line ${i + 1}: bad labels {${m[2]}}`);
    }
    const f = familyOf(families, m[1]);
    if (!f) throw new Error(`line ${i + 1}: sample ${m[1]} has no TYPE line before it`);
    f.samples.push({ name: m[1], labels, value });
  }
  return families;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sumSamples(families: Map<string, Family>, name: string, match: Readonly<Record<string, string>> = {}): number {
  const f = familyOf(families, name);
  let sum = 0;
  for (const s of f?.samples ?? []) {
    if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}
