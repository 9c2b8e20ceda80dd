// The goal verdicts at the top of the report, and the number formats the report shares.
import type { ScaleResult } from './scale.ts';
import { median, type Summary } from './stats.ts';
import { pairGoal, processGoal, PAIR_GOALS, PROCESS_GOALS } from './goals-pairs.ts';
import type { BenchSummary, Metric, Run } from './summary.ts';
import type { SystemSpec } from './systems.ts';

const KiB = 1024;

/** One goal's row. */
export interface Goal {
  /** What the goal is. */
  readonly goal: string;
  /** The measured figure. */
  readonly figure: string | undefined;
  /** `met`, `NOT met` or `not measured`. */
  readonly verdict: string;
}

/** A number with sensible precision for a table cell. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)` of a summary; just the median when there is one value. */
export function cell(s: Summary | undefined, format: (x: number | null) => string = fmt, unit = ''): string {
  if (!s || s.n === 0) return '—';
  if (s.n === 1 || s.min === s.max) return `${format(s.median)}${unit}`;
  return `${format(s.median)}${unit} (${format(s.min)}–${format(s.max)})`;
}

/** A ratio as `1.23×`. */
export const ratio = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`;
/** An integer with thousands separators. */
export const integer = (x: number): string => x.toLocaleString('en-US');
/** Finite values, formatted and comma-separated. */
export const list = (xs: readonly number[], f = (x: number): string => x.toFixed(2)): string =>
  xs
    .filter((x) => Number.isFinite(x))
    .map(f)
    .join(', ');

/** Small req/s of 2 edge clients balanced per request ÷ per connection, per round. */
export function balancingRatios(summary: BenchSummary): number[] {
  const req = summary.shapes.small?.['tunnel-2'];
  const conn = summary.shapes.small?.['tunnel-2 conn'];
  if (!req || !conn) return [];
  return req.perRound.map((r) => {
    const c = conn.perRound.find((x) => x.round === r.round);
    return c && c.reqPerSec > 0 ? r.reqPerSec / c.reqPerSec : NaN;
  });
}

/** Goal: per-request balancing costs at most 5% small req/s against per-connection, 2 edge clients. */
function balancingGoal(summary: BenchSummary, has: (name: string) => boolean): Goal {
  const label = 'per-request balancing (2 edge clients): small req/s ≥ 0.95× per-connection';
  if (!has('tunnel-2') || !has('tunnel-2 conn')) return { goal: label, figure: 'not measured', verdict: 'not measured' };
  const rounds = balancingRatios(summary);
  const m = median(rounds);
  const req = summary.shapes.small['tunnel-2'].reqPerSec.median;
  const conn = summary.shapes.small['tunnel-2 conn'].reqPerSec.median;
  return {
    goal: label,
    figure: `request ${fmt(req)} vs connection ${fmt(conn)}: ${ratio(m)} (per round: ${list(rounds)})`,
    verdict: m === null ? 'not measured' : m >= 0.95 ? 'met' : 'NOT met',
  };
}

/** Goal: the tunnel against ssh -R on one metric of one shape. */
function vsSshGoal(
  summary: BenchSummary,
  has: (name: string) => boolean,
  shape: string,
  key: Metric,
  target: number,
  atLeast: boolean,
  label: string,
): Goal {
  if (!has('ssh -R') || !has('tunnel')) return { goal: label, figure: 'ssh -R not measured', verdict: 'not measured' };
  const tunnel = summary.shapes[shape].tunnel;
  const ssh = summary.shapes[shape]['ssh -R'];
  const m = tunnel[key].vsSsh.median;
  const ok = m !== null && (atLeast ? m >= target : m < target);
  const perRound = tunnel.perRound.map((r) => {
    const o = ssh.perRound.find((x) => x.round === r.round);
    return o && o[key] > 0 ? r[key] / o[key] : NaN;
  });
  return {
    goal: label,
    figure: `tunnel ${fmt(tunnel[key].median)} vs ssh -R ${fmt(ssh[key].median)}: ${ratio(m)} (per round: ${list(perRound)})`,
    verdict: m === null ? 'not measured' : ok ? 'met' : 'NOT met',
  };
}

function memoryGoal(scale: readonly ScaleResult[]): Goal {
  const label = '≤ 32 KiB exit-server memory per idle client';
  const measured = scale.filter((r) => Number.isFinite(r.rssPerClientBytes));
  const biggest = measured.sort((a, b) => b.n - a.n)[0];
  if (!biggest) return { goal: label, figure: 'not measured', verdict: 'not measured' };
  const perClient = biggest.rssPerClientBytes as number;
  return {
    goal: label,
    figure:
      `${fmt(perClient / KiB)} KiB at N = ${integer(biggest.n)}` +
      (biggest.n < 10_000 ? " (at small N the server's fixed heap growth dominates the per-client figure; judge at N = 10,000)" : ''),
    verdict: perClient <= 32 * KiB ? 'met' : 'NOT met',
  };
}

function tenThousandGoal(scale: readonly ScaleResult[]): Goal {
  const label = '10,000 idle clients on one server';
  const tenK = scale.find((r) => r.n >= 10_000);
  if (!tenK) return { goal: label, figure: 'not measured in this mode', verdict: 'not measured' };
  return {
    goal: label,
    figure: tenK.ok
      ? `${integer(tenK.statusClients ?? 0)} attached in ${fmt((tenK.attachMs ?? NaN) / 1000)} s; request to ${tenK.lastRequest?.host} answered in ${fmt(tenK.lastRequest?.ms)} ms`
      : tenK.error,
    verdict: tenK.ok ? 'met' : 'NOT met',
  };
}

/**
 * Goal verdicts: first the encrypted tunnel against ssh -R, the plain hop against nginx and each
 * process's CPU (issue 18), then the plain tunnel against ssh -R, balancing and scale.
 */
export function evaluateGoals({
  summary,
  scale,
  systems,
  runs = [],
}: {
  summary: BenchSummary;
  scale: readonly ScaleResult[];
  systems: readonly SystemSpec[];
  /** Every load run, for the per-process goals (none: those goals read `not measured`). */
  runs?: readonly Run[];
}): Goal[] {
  const has = (name: string): boolean => systems.some((s) => s.name === name);
  return [
    ...PAIR_GOALS.map((g) => pairGoal(summary, has, g)),
    ...PROCESS_GOALS.map((g) => processGoal(runs, g)),
    vsSshGoal(summary, has, 'small', 'reqPerSec', 1, true, 'ws: small requests: req/s ≥ ssh -R'),
    vsSshGoal(summary, has, 'small', 'p99Ms', 1, false, 'ws: small requests: p99 below ssh -R'),
    vsSshGoal(summary, has, 'download', 'mbPerSec', 2, true, 'ws: 1 MiB downloads: MB/s ≥ 2× ssh -R'),
    vsSshGoal(summary, has, 'upload', 'mbPerSec', 2, true, 'ws: 10 MB uploads: MB/s ≥ 2× ssh -R'),
    balancingGoal(summary, has),
    memoryGoal(scale),
    tenThousandGoal(scale),
  ];
}
