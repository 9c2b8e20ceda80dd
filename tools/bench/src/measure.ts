// The rounds: every system started from scratch per round (order alternating), warmed up, loaded
// with each shape while the CPU time of its processes, the upstream and autocannon is counted,
// then the raw TCP stream.
import type { Bins } from './builds.ts';
import { startChild, stopChild } from './children.ts';
import {
  busyShare,
  clockTicksPerSecond,
  delta,
  hostTicks,
  peakRssBytes,
  procMemory,
  reapedChildTicks,
  rssBytes,
  snapshot,
  usPerRequest,
} from './cpu.ts';
import { runLoad, type Figures, type LoadRun } from './load.ts';
import { warmupPerShape, type BenchOptions } from './options.ts';
import type { Progress } from './progress.ts';
import { SHAPES, type Shape } from './shapes.ts';
import type { Run, RunCpu, TcpRun } from './summary.ts';
import { startSystem, type RunContext, type RunningSystem, type SystemSpec } from './systems.ts';
import { firstLine } from './wait.ts';

const MAX_ERROR_RATE = 0.01;
/** Hard limit on one TCP stream transfer, ms. */
const TCP_LIMIT_MS = 180_000;

/** One warm-up load run. */
export interface Warmup {
  readonly round: number;
  readonly system: string;
  readonly shape: string;
  readonly figures: Figures;
}

/** Everything the rounds measured. */
export interface Measured {
  /** The measured load runs. */
  readonly runs: Run[];
  /** The warm-up runs. */
  readonly warmups: Warmup[];
  /** The TCP stream transfers. */
  readonly tcpRuns: TcpRun[];
  /** Failure messages. */
  readonly failures: string[];
  /** Each system process's memory per round. */
  readonly procMemory: ProcMemory[];
}

/** One process's memory in one round: once the system served its first requests, and its peak at the end. */
export interface ProcMemory {
  /** Round number. */
  readonly round: number;
  /** System name. */
  readonly system: string;
  /** Process name (as in the runs' tunnelTicks). */
  readonly proc: string;
  /** RSS before any load, bytes (sshd: summed over its processes). */
  readonly idleRssBytes: number | undefined;
  /** Peak RSS (VmHWM) after every shape, bytes (sshd: summed over its processes). */
  readonly peakRssBytes: number | undefined;
}

/** One round of one system. */
interface Round {
  readonly round: number;
  readonly tag: string;
  readonly spec: SystemSpec;
  readonly system: RunningSystem;
  readonly opts: BenchOptions;
  readonly progress: Progress;
  readonly uploadFile: string;
  readonly bins: Bins;
}

/** Sends exactly `bytes` through `port` with the tcp-source bundle; resolves its wall time and rate. */
async function runTcpStream(bins: Bins, port: number, bytes: number): Promise<{ ms: number; bytes: number; mbPerSec: number }> {
  const proc = startChild('tcp-source', process.execPath, [bins['tcp-source'], `${port}`, `${bytes}`, `${TCP_LIMIT_MS}`]);
  const outcome = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), TCP_LIMIT_MS + 5000))]);
  if (outcome === 'timeout') {
    await stopChild(proc, 1000);
    throw new Error(`TCP stream did not finish within ${TCP_LIMIT_MS} ms`);
  }
  const line = proc.stdout().trim().split('\n').pop() ?? '';
  if (outcome.code !== 0 || !line.startsWith('{'))
    throw new Error(`tcp-source failed (${outcome.signal ?? `code ${outcome.code}`}) ${line} ${proc.stderrTail()}`);
  const { ms, acked } = JSON.parse(line) as { ms: number; acked: number };
  return { ms, bytes: acked, mbPerSec: acked / 1e6 / (ms / 1000) };
}

function load(r: Round, shape: Shape, durationSec: number): Promise<LoadRun> {
  return runLoad({
    url: r.system.url + shape.path,
    connections: shape.connections,
    durationSec,
    method: shape.method,
    ...(shape.upload ? { bodyFile: r.uploadFile, expectBody: `bytes=${shape.bodyBytes}`, uploadBytes: shape.bodyBytes } : {}),
  });
}

/** One measured load run of `shape` with its CPU accounting. */
async function measureShape(r: Round, shape: Shape): Promise<Run> {
  const { system, spec } = r;
  const tunnelBefore = snapshot(system.tunnelProcs);
  const upstreamBefore = snapshot([system.upstreamProc]);
  const loadGenBefore = reapedChildTicks();
  const hostBefore = hostTicks();
  const { figures, raw } = await load(r, shape, r.opts.durationSec);
  const hostBusy = busyShare(hostBefore, hostTicks());
  const loadGenAfter = reapedChildTicks();
  const tunnelTicks = delta(tunnelBefore, snapshot(system.tunnelProcs));
  const upstreamTicks = delta(upstreamBefore, snapshot([system.upstreamProc]));
  const loadGenTicks = loadGenBefore === undefined || loadGenAfter === undefined ? undefined : loadGenAfter - loadGenBefore;
  const dead = system.deadProcs();
  if (dead.length > 0) throw new Error(`${spec.name}: ${dead.join(', ')} exited during the ${shape.name} run`);
  const cpu: RunCpu = {
    clkTck: clockTicksPerSecond(),
    tunnelTicks,
    upstreamTicks,
    tunnelUsPerReq: system.tunnelProcs.length > 0 ? usPerRequest(tunnelTicks, figures.requests) : null,
    upstreamUsPerReq: usPerRequest(upstreamTicks, figures.requests),
    loadGenTicks,
    loadGenUsPerReq: usPerRequest({ autocannon: loadGenTicks }, figures.requests),
    hostBusy,
  };
  return {
    round: r.round,
    system: spec.name,
    shape: shape.name,
    url: system.url + shape.path,
    ports: system.ports,
    figures,
    cpu,
    autocannon: raw,
  };
}

/** The TCP stream of one round; a failure is recorded, not thrown. */
async function measureTcp(r: Round, out: Measured): Promise<void> {
  const { system, spec, opts } = r;
  r.progress.phase(`${r.tag} tcp stream ${opts.tcpBytes / 1024 ** 2} MiB`);
  const before = snapshot(system.tunnelProcs);
  try {
    const t = await runTcpStream(r.bins, system.tcpPort as number, opts.tcpBytes);
    const ticks = delta(before, snapshot(system.tunnelProcs));
    const us = system.tunnelProcs.length > 0 ? usPerRequest(ticks, t.bytes / 1e6) : null; // µs per MB
    out.tcpRuns.push({ round: r.round, system: spec.name, ...t, tunnelTicks: ticks, cpuUsPerMB: us });
  } catch (err) {
    const msg = `round ${r.round} ${spec.name} tcp stream: ${firstLine(err)}`;
    out.failures.push(msg);
    r.progress.log(`FAIL ${msg}`);
  }
  r.progress.step();
}

/** Warm-up, every shape, then the TCP stream, for one system in one round. */
async function measureRound(r: Round, out: Measured): Promise<void> {
  const { spec, opts, progress } = r;
  const warm = warmupPerShape(opts.warmupSec);
  for (const shape of warm > 0 ? SHAPES : []) {
    progress.phase(`${r.tag} warm-up ${shape.name}`, warm);
    const { figures } = await load(r, shape, warm);
    out.warmups.push({ round: r.round, system: spec.name, shape: shape.name, figures });
    progress.step();
  }
  for (const shape of SHAPES) {
    progress.phase(`${r.tag} ${shape.name}`, opts.durationSec);
    const run = await measureShape(r, shape);
    out.runs.push(run);
    const f = run.figures;
    if (f.errorRate > MAX_ERROR_RATE) {
      const msg =
        `round ${r.round} ${spec.name} ${shape.name}: ${(f.errorRate * 100).toFixed(2)}% failed requests ` +
        `(errors ${f.errors}, timeouts ${f.timeouts}, non-2xx ${f.non2xx}, body mismatches ${run.autocannon.mismatches ?? 0})`;
      out.failures.push(msg);
      progress.log(`FAIL ${msg}`);
    }
    progress.step();
  }
  if (spec.tcp && opts.tcpBytes > 0) await measureTcp(r, out);
}

/** Runs every round of every system. */
export async function measure(
  opts: BenchOptions,
  ctx: RunContext,
  systems: readonly SystemSpec[],
  progress: Progress,
  uploadFile: string,
): Promise<Measured> {
  const out: Measured = { runs: [], warmups: [], tcpRuns: [], failures: [], procMemory: [] };
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? systems : [...systems].reverse();
    for (const spec of order) {
      const tag = `[round ${round}/${opts.rounds}] ${spec.name}`;
      progress.phase(`${tag} starting`);
      const system = await startSystem(spec, ctx);
      try {
        const idle = system.tunnelProcs.map((p) => procMemory(p, rssBytes));
        await measureRound({ round, tag, spec, system, opts, progress, uploadFile, bins: ctx.bins }, out);
        system.tunnelProcs.forEach((p, i) =>
          out.procMemory.push({ round, system: spec.name, proc: p.name, idleRssBytes: idle[i], peakRssBytes: procMemory(p, peakRssBytes) }),
        );
      } finally {
        progress.phase(`${tag} stopping`);
        await system.stop();
      }
    }
  }
  return out;
}
