// Goals that compare two systems measured in the same run (the tunnel over wss:// against
// ssh -R, the tunnel over ws:// against nginx) and two processes (the edge client against the
// ssh client on the device; the exit server over wss:// against itself over ws://).
import { fmt, list, ratio, type Goal } from './goals.ts';
import { processUsPer } from './report-procs.ts';
import { median } from './stats.ts';
import type { BenchSummary, Metric, Run } from './summary.ts';

/** `value` passes `target` in the goal's direction: at least it, or at most it. */
function passes(value: number, target: number, atLeast: boolean): boolean {
  return atLeast ? value >= target : value <= target;
}

/** One system against another on one metric of one shape, judged on the median of per-round ratios. */
export interface PairGoal {
  /** The system judged, e.g. `tunnel wss`. */
  readonly system: string;
  /** The system it is measured against in the same rounds, e.g. `ssh -R`. */
  readonly against: string;
  /** The shape, e.g. `small`. */
  readonly shape: string;
  /** The metric compared. */
  readonly metric: Metric;
  /** The ratio system ÷ against the goal asks for. */
  readonly target: number;
  /** True: the ratio must be at least `target`; false: at most. */
  readonly atLeast: boolean;
  /** The goal as the table states it. */
  readonly label: string;
}

/** Judges a {@link PairGoal}: per round system ÷ against, median over rounds. */
export function pairGoal(summary: BenchSummary, has: (name: string) => boolean, g: PairGoal): Goal {
  if (!has(g.system) || !has(g.against))
    return { goal: g.label, figure: `${g.system} or ${g.against} not measured`, verdict: 'not measured' };
  const mine = summary.shapes[g.shape]?.[g.system];
  const theirs = summary.shapes[g.shape]?.[g.against];
  if (!mine || !theirs) return { goal: g.label, figure: 'not measured', verdict: 'not measured' };
  const rounds = mine.perRound.map((r) => {
    const o = theirs.perRound.find((x) => x.round === r.round);
    return o && o[g.metric] > 0 ? r[g.metric] / o[g.metric] : NaN;
  });
  const m = median(rounds.filter(Number.isFinite));
  return {
    goal: g.label,
    figure: `${g.system} ${fmt(mine[g.metric].median)} vs ${g.against} ${fmt(theirs[g.metric].median)}: ${ratio(m)} (per round: ${list(rounds)})`,
    verdict: m === null ? 'not measured' : passes(m, g.target, g.atLeast) ? 'met' : 'NOT met',
  };
}

/** One process's CPU per unit against another's, on the shapes named. */
export interface ProcessGoal {
  /** System and process judged, e.g. `tunnel wss` / `edge-client`. */
  readonly system: string;
  readonly proc: string;
  /** System and process it is measured against. */
  readonly againstSystem: string;
  readonly againstProc: string;
  /** Shapes compared: CPU per small request, per MB downloaded, per MB uploaded. */
  readonly shapes: readonly string[];
  /** The highest ratio allowed on every shape. */
  readonly atMost: number;
  /** The goal as the table states it. */
  readonly label: string;
}

/** Judges a {@link ProcessGoal}: the ratio of the two processes' median CPU per unit, each shape. */
export function processGoal(runs: readonly Run[], g: ProcessGoal): Goal {
  const ratios = g.shapes.map((shape) => {
    const mine = processUsPer(runs, g.system, shape, g.proc);
    const theirs = processUsPer(runs, g.againstSystem, shape, g.againstProc);
    return { shape, mine, theirs, r: mine !== undefined && theirs !== undefined && theirs > 0 ? mine / theirs : undefined };
  });
  if (ratios.some((x) => x.r === undefined)) return { goal: g.label, figure: 'not measured', verdict: 'not measured' };
  const figure = ratios.map((x) => `${x.shape} ${fmt(x.mine)} vs ${fmt(x.theirs)} µs: ${ratio(x.r)}`).join('; ');
  return { goal: g.label, figure, verdict: ratios.every((x) => (x.r as number) <= g.atMost) ? 'met' : 'NOT met' };
}

/** Issue 18's goals for the encrypted tunnel and the plain hop, in the report's order. */
export const PAIR_GOALS: readonly PairGoal[] = [
  {
    system: 'tunnel wss',
    against: 'ssh -R',
    shape: 'small',
    metric: 'reqPerSec',
    target: 1.2,
    atLeast: true,
    label: 'wss: small requests ≥ 1.2× ssh -R req/s',
  },
  {
    system: 'tunnel wss',
    against: 'ssh -R',
    shape: 'small',
    metric: 'p99Ms',
    target: 0.5,
    atLeast: false,
    label: 'wss: small-request p99 ≤ 0.5× ssh -R',
  },
  {
    system: 'tunnel wss',
    against: 'ssh -R',
    shape: 'download',
    metric: 'mbPerSec',
    target: 2,
    atLeast: true,
    label: 'wss: 1 MiB downloads ≥ 2× ssh -R MB/s',
  },
  {
    system: 'tunnel wss',
    against: 'ssh -R',
    shape: 'upload',
    metric: 'mbPerSec',
    target: 2,
    atLeast: true,
    label: 'wss: 10 MB uploads ≥ 2× ssh -R MB/s',
  },
  {
    system: 'tunnel',
    against: 'nginx',
    shape: 'small',
    metric: 'reqPerSec',
    target: 0.8,
    atLeast: true,
    label: 'ws: small requests ≥ 0.8× nginx req/s',
  },
  {
    system: 'tunnel',
    against: 'nginx',
    shape: 'download',
    metric: 'mbPerSec',
    target: 0.6,
    atLeast: true,
    label: 'ws: 1 MiB downloads ≥ 0.6× nginx MB/s',
  },
];

/** Issue 18's per-process goals: the device's CPU, and what TLS costs the exit server. */
export const PROCESS_GOALS: readonly ProcessGoal[] = [
  {
    system: 'tunnel wss',
    proc: 'edge-client',
    againstSystem: 'ssh -R',
    againstProc: 'ssh',
    shapes: ['small', 'download', 'upload'],
    atMost: 0.5,
    label: 'device: edge client (wss) ≤ 0.5× the ssh client CPU per request and per MB',
  },
  {
    system: 'tunnel wss',
    proc: 'exit-server',
    againstSystem: 'tunnel',
    againstProc: 'exit-server',
    shapes: ['download', 'upload'],
    atMost: 2,
    label: 'exit server: wss ≤ 2× its ws CPU per MB',
  },
];
