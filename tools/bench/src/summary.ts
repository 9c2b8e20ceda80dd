// Per-shape and per-system summaries over rounds: medians with min-max, and per-round ratios to
// DIRECT and to ssh -R measured in the same round.
import type { TickMap } from './cpu.ts';
import type { AutocannonResult, Figures, Percentile } from './load.ts';
import { SHAPES } from './shapes.ts';
import { summarize, type Summary } from './stats.ts';
import type { SystemSpec } from './systems.ts';

/** CPU accounting of one load run. */
export interface RunCpu {
  /** Clock ticks per second. */
  readonly clkTck: number;
  /** Ticks of the system's own processes. */
  readonly tunnelTicks: TickMap;
  /** Ticks of the upstream. */
  readonly upstreamTicks: TickMap;
  /** Ticks of autocannon. */
  readonly loadGenTicks: number | undefined;
  /** CPU µs per request of the system's processes (null for direct). */
  readonly tunnelUsPerReq: number | null;
  /** CPU µs per request of the upstream. */
  readonly upstreamUsPerReq: number | null;
  /** CPU µs per request of autocannon. */
  readonly loadGenUsPerReq: number | null;
  /** Share of all cores busy while the load ran, 0-1. */
  readonly hostBusy: number | null;
}

/** One measured load run. */
export interface Run {
  /** Round number, from 1. */
  readonly round: number;
  /** System name. */
  readonly system: string;
  /** Shape name. */
  readonly shape: string;
  /** The URL loaded. */
  readonly url: string;
  /** The system's ports. */
  readonly ports: Record<string, number>;
  /** The figures. */
  readonly figures: Figures;
  /** CPU accounting. */
  readonly cpu: RunCpu;
  /** autocannon's JSON. */
  readonly autocannon: AutocannonResult;
}

/** One TCP stream transfer. */
export interface TcpRun {
  /** Round number. */
  readonly round: number;
  /** System name. */
  readonly system: string;
  /** Wall time, ms. */
  readonly ms: number;
  /** Bytes the sink acknowledged. */
  readonly bytes: number;
  /** MB/s (10^6 bytes). */
  readonly mbPerSec: number;
  /** Ticks of the system's processes. */
  readonly tunnelTicks: TickMap;
  /** CPU µs per MB of the system's processes (null for direct). */
  readonly cpuUsPerMB: number | null;
}

/** A metric's summary plus the summaries of its per-round ratios. */
export type RatioSummary = Summary & { readonly vsDirect: Summary; readonly vsSsh: Summary };

/** The compared metrics. */
export const METRICS = ['reqPerSec', 'p50Ms', 'p99Ms', 'mbPerSec'] as const;
/** One compared metric. */
export type Metric = (typeof METRICS)[number];

/** One system's summary for one shape. */
export type ShapeSummary = Record<Metric, RatioSummary> & {
  /** The metrics per round. */
  readonly perRound: ({ readonly round: number } & Record<Metric, number>)[];
  /** CPU µs/req of the system's processes. */
  readonly tunnelCpuUsPerReq: Summary;
  /** CPU µs/req of the upstream. */
  readonly upstreamCpuUsPerReq: Summary;
  /** CPU µs/req of autocannon. */
  readonly loadGenCpuUsPerReq: Summary;
  /** Share of the host busy. */
  readonly hostBusy: Summary;
  /** The worst round's error rate. */
  readonly maxErrorRate: number | null;
  /** Median latency per percentile. */
  readonly latency: [number, number | null][];
};

/** One system's TCP stream summary. */
export interface TcpSummary {
  /** MB/s with ratios. */
  readonly mbPerSec: RatioSummary;
  /** Seconds per transfer. */
  readonly seconds: Summary;
  /** CPU µs per MB. */
  readonly cpuUsPerMB: Summary;
}

/** Everything the report and the plot read. */
export interface BenchSummary {
  /** By shape name, then system name. */
  readonly shapes: Record<string, Record<string, ShapeSummary>>;
  /** By system name. */
  readonly tcp: Record<string, TcpSummary>;
}

/** Summary of `value` over `rs`, and of its ratio to system `name` in the same round. */
function ratioSummary<R extends { round: number }>(rs: readonly R[], all: (name: string) => R[], value: (r: R) => number): RatioSummary {
  const ratio = (name: string): Summary =>
    summarize(
      rs.map((r) => {
        const other = all(name).find((d) => d.round === r.round);
        return other && value(other) > 0 ? value(r) / value(other) : null;
      }),
    );
  return { ...summarize(rs.map(value)), vsDirect: ratio('direct'), vsSsh: ratio('ssh -R') };
}

function shapeSummary(runs: readonly Run[], shape: string, system: string): ShapeSummary {
  const rs = runs.filter((r) => r.shape === shape && r.system === system);
  const peersOf = (name: string): Run[] => runs.filter((r) => r.shape === shape && r.system === name);
  const metrics = Object.fromEntries(METRICS.map((key) => [key, ratioSummary(rs, peersOf, (r) => r.figures[key])])) as Record<
    Metric,
    RatioSummary
  >;
  return {
    ...metrics,
    perRound: rs.map((r) => ({ round: r.round, ...(Object.fromEntries(METRICS.map((k) => [k, r.figures[k]])) as Record<Metric, number>) })),
    tunnelCpuUsPerReq: summarize(rs.map((r) => r.cpu.tunnelUsPerReq)),
    upstreamCpuUsPerReq: summarize(rs.map((r) => r.cpu.upstreamUsPerReq)),
    loadGenCpuUsPerReq: summarize(rs.map((r) => r.cpu.loadGenUsPerReq)),
    hostBusy: summarize(rs.map((r) => r.cpu.hostBusy)),
    maxErrorRate: rs.length > 0 ? Math.max(...rs.map((r) => r.figures.errorRate)) : null,
    latency: medianLatencyCurve(rs),
  };
}

/** Summaries of every shape and system, and of the TCP streams. */
export function summarizeRuns(runs: readonly Run[], tcpRuns: readonly TcpRun[], systems: readonly SystemSpec[]): BenchSummary {
  const shapes: Record<string, Record<string, ShapeSummary>> = {};
  for (const shape of SHAPES) {
    shapes[shape.name] = {};
    for (const spec of systems) shapes[shape.name][spec.name] = shapeSummary(runs, shape.name, spec.name);
  }
  const tcp: Record<string, TcpSummary> = {};
  for (const spec of systems.filter((s) => s.tcp)) {
    const rs = tcpRuns.filter((r) => r.system === spec.name);
    tcp[spec.name] = {
      mbPerSec: ratioSummary(
        rs,
        (name) => tcpRuns.filter((d) => d.system === name),
        (r) => r.mbPerSec,
      ),
      seconds: summarize(rs.map((r) => r.ms / 1000)),
      cpuUsPerMB: summarize(rs.map((r) => r.cpuUsPerMB)),
    };
  }
  return { shapes, tcp };
}

/** Per percentile, the median latency over rounds: `[[percentile, ms], ...]`. */
function medianLatencyCurve(rs: readonly Run[]): [number, number | null][] {
  if (rs.length === 0) return [];
  const ps = rs[0].figures.latency.map(([p]) => p);
  return ps.map((p) => [p, summarize(rs.map((r) => r.figures.latency.find(([q]: Percentile) => q === p)?.[1])).median]);
}
