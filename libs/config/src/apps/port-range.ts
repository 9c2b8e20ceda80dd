/** An inclusive range of TCP ports. */
export interface PortRange {
  /** First port of the range, 1-65535. */
  readonly from: number;
  /** Last port of the range, from-65535. */
  readonly to: number;
}

/** Parses `FROM-TO` into a {@link PortRange}. */
export function parsePortRange(raw: string): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw.trim());
  const from = m ? Number(m[1]) : NaN;
  const to = m ? Number(m[2]) : NaN;
  if (!(from >= 1 && to <= 65535 && from <= to)) throw new Error('expected FROM-TO, two ports with FROM <= TO, e.g. 20000-20100');
  return { from, to };
}
