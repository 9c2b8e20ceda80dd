// node tools/bench/dist/balance-cost.js [--pairs N] [--reps N] [--amount N] [--warmup N]
//   [--connections N] [--strace] [--variant LABEL:NAME=VALUE ...]
// Prices per-request balancing against per-connection balancing (issue 14's goal: at most 5%)
// on a host shared with other work, where req/s is noise: CPU per request of each process
// (utime+stime from /proc/<pid>/stat; of it, system time and the event-loop thread's) and that
// thread's context switches per request. Each pair starts one system per variant (exit server,
// 2 edge clients, upstream): `request` (the default balancing), `connection`, and any
// --variant (request mode with NAME=VALUE in its processes' environment, to A/B an experiment).
// Then it loads them in turn, --reps times, rotating the order, so host load drifts hit every
// variant alike; ratios are of loads next to each other. With --strace each process is also
// traced (`strace -c -f`) during each load for its syscalls per request; tracing slows them, so
// the CPU figures of such a run do not compare with an untraced run's.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { newToken } from '@tunnel/testing';
import { snapshotBuilds } from './builds.ts';
import { killAllNow, startChild, stopAll, type ChildHandle, signal } from './children.ts';
import { clockTicksPerSecond, type ProcRef } from './cpu.ts';
import { positiveIntFlag } from './int-flag.ts';
import { runLoad } from './load.ts';
import { status } from './tunnel-procs.ts';
import { detectPeers } from './peers.ts';
import { SMALL_BYTES } from './shapes.ts';
import { summarize } from './stats.ts';
import { startSystem, SYSTEMS, type RunContext, type RunningSystem, type SystemSpec } from './systems.ts';

/** Settings from the command line. */
interface Options {
  /** Times every variant's system is started afresh. */
  readonly pairs: number;
  /** Measured loads per variant and pair. */
  readonly reps: number;
  /** Requests per measured load. */
  readonly amount: number;
  /** Requests sent before measuring (warms the streams, the JIT and the upstream pools). */
  readonly warmup: number;
  /** Keep-alive connections of the load. */
  readonly connections: number;
  /** Trace syscalls of every tunnel process during the measured load. */
  readonly strace: boolean;
  /** Extra variants: request mode with one environment variable set (`LABEL:NAME=VALUE`). */
  readonly variants: readonly string[];
}

/** One process's (or both edge clients') figures in one load, per request. */
interface ProcFigures {
  /** CPU (user + system), µs per request. */
  readonly cpuUs: number;
  /** Of which system (kernel) time, µs per request. */
  readonly sysUs: number;
  /** Of which the main (event-loop) thread's, µs per request; the rest is V8's and libuv's helper threads. */
  readonly mainUs: number;
  /** Context switches of its main (event-loop) thread per request, voluntary + involuntary. */
  readonly ctxSwitches: number;
  /** Syscalls per request by name (with --strace). */
  readonly syscalls?: Record<string, number>;
}

/** One measured load: its variant, req/s, and the figures of the exit server and the edge clients. */
interface Round {
  readonly label: string;
  readonly reqPerSec: number;
  /** 99th percentile latency, ms (autocannon's). */
  readonly p99Ms: number;
  /** The first edge client's share of the load's requests (/status's requests served), 0-1. */
  readonly share: number;
  readonly procs: Record<string, ProcFigures>;
}

/** The syscalls reported one by one (the rest count in `total`). */
const SYSCALLS = ['epoll_wait', 'epoll_pwait', 'write', 'writev', 'read', 'readv', 'sendmsg', 'recvfrom'] as const;

function parseArgs(argv: readonly string[]): Options {
  const num = (flag: string, dflt: number): number => positiveIntFlag(argv, flag, dflt);
  return {
    pairs: num('--pairs', 2),
    reps: num('--reps', 4),
    amount: num('--amount', 30_000),
    warmup: num('--warmup', 10_000),
    connections: num('--connections', 100),
    strace: argv.includes('--strace'),
    variants: argv.flatMap((a, i) => (argv[i - 1] === '--variant' ? [a] : [])),
  };
}

/** A process's counters so far; NaN when unreadable. */
interface Counters {
  /** utime + stime, clock ticks. */
  readonly cpu: number;
  /** stime, clock ticks. */
  readonly sys: number;
  /** utime + stime of the main (event-loop) thread, clock ticks. */
  readonly main: number;
  /** Context switches of the main thread, voluntary + involuntary. */
  readonly ctx: number;
}

/** Fields of a /proc stat file from the 3rd on (the command name may hold spaces): utime at 11, stime at 12. */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The counters of `pid` now (NaN when it is gone). */
function counters(pid: number | undefined): Counters {
  try {
    const f = statFields(`/proc/${pid}/stat`);
    const t = statFields(`/proc/${pid}/task/${pid}/stat`);
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const v = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(s);
    const n = /^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s);
    return {
      cpu: Number(f[11]) + Number(f[12]),
      sys: Number(f[12]),
      main: Number(t[11]) + Number(t[12]),
      ctx: Number(v?.[1]) + Number(n?.[1]),
    };
  } catch {
    return { cpu: NaN, sys: NaN, main: NaN, ctx: NaN };
  }
}

/** Starts `strace -c -f` on each process; stop() resolves each one's calls by syscall name. */
function traceAll(procs: readonly ProcRef[], dir: string): { stop(): Promise<Record<string, Record<string, number>>> } {
  const tracers: [string, ChildHandle, string][] = procs.map((p) => {
    const out = `${dir}/${p.name}.strace`;
    return [p.name, startChild(`strace-${p.name}`, 'strace', ['-c', '-f', '-o', out, '-p', `${p.pid}`]), out];
  });
  return {
    async stop() {
      const calls: Record<string, Record<string, number>> = {};
      for (const [name, tracer, out] of tracers) {
        if (tracer.pid !== undefined) signal(tracer.pid, 'SIGINT');
        await tracer.exited;
        calls[name] = parseStraceSummary(readFileSync(out, 'utf8'));
      }
      return calls;
    },
  };
}

/** Calls by syscall name from `strace -c`'s table, plus `total`. */
function parseStraceSummary(text: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m) calls[m[2] === 'total' ? 'total' : m[2]] = Number(m[1]);
  }
  return calls;
}

/** Gives strace time to attach: it says nothing until it detaches, so there is nothing to wait on. */
async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A system being compared: a balancing mode, maybe with extra environment for its processes. */
interface Variant {
  /** Name in the report: `request`, `connection`, or a --variant's. */
  readonly label: string;
  /** The system started for it. */
  readonly spec: SystemSpec;
  /** Environment its processes get on top of ours (for A/B-testing an experimental switch). */
  readonly env: Record<string, string>;
}

/** Sends `o.warmup` requests through a freshly started system (streams, JIT, upstream pools). */
async function warm(sys: RunningSystem, o: Options): Promise<void> {
  await runLoad({ url: `${sys.url}/small`, connections: o.connections, amount: o.warmup });
}

/** One measured load through `sys`: each tunnel process's figures per request. */
async function measureLoad(sys: RunningSystem, label: string, o: Options, dir: string, token: string): Promise<Round> {
  const procs = sys.tunnelProcs;
  const tracer = o.strace ? traceAll(procs, dir) : undefined;
  if (tracer) await settle(1000);
  const served0 = await served(sys, token);
  const before = procs.map((p) => counters(p.pid));
  const run = await runLoad({ url: `${sys.url}/small`, connections: o.connections, amount: o.amount });
  const after = procs.map((p) => counters(p.pid));
  const served1 = await served(sys, token);
  const share = (served1[0] - served0[0]) / (served1[0] - served0[0] + served1[1] - served0[1]);
  const calls = tracer ? await tracer.stop() : undefined;
  const n = run.figures.ok;
  if (run.figures.errorRate > 0.01 || n < o.amount * 0.99) throw new Error(`${label}: ${n} of ${o.amount} requests answered 2xx`);
  const us = 1e6 / clockTicksPerSecond();
  const figures: Record<string, ProcFigures> = {};
  procs.forEach((p, i) => {
    const c = calls?.[p.name];
    const syscalls = c && Object.fromEntries(['total', ...SYSCALLS].filter((k) => c[k]).map((k) => [k, c[k] / n]));
    const [a, b] = [after[i], before[i]];
    const per = (x: number): number => (x * us) / n;
    figures[p.name.replace(/-bench-\d+$/, '')] = addFigures(figures[p.name.replace(/-bench-\d+$/, '')], {
      cpuUs: per(a.cpu - b.cpu),
      sysUs: per(a.sys - b.sys),
      mainUs: per(a.main - b.main),
      ctxSwitches: (a.ctx - b.ctx) / n,
      syscalls,
    });
  });
  // autocannon's duration is in whole seconds: its start and finish stamps are finer.
  const { start, finish } = run.raw as unknown as { start: string; finish: string };
  const seconds = (Date.parse(finish) - Date.parse(start)) / 1000 || run.figures.durationSec;
  return { label, reqPerSec: n / seconds, p99Ms: run.figures.p99Ms, share, procs: figures };
}

/** Requests served so far by each edge client (bench-1, bench-2), from /status. */
async function served(sys: RunningSystem, token: string): Promise<[number, number]> {
  const res = await status(sys.ports.control, token);
  const clients = (JSON.parse(res.body) as { clients: { id: string; requestsServed: number }[] }).clients;
  const of = (id: string): number => clients.find((c) => c.id === id)?.requestsServed ?? NaN;
  return [of('bench-1'), of('bench-2')];
}

/** Sums two processes' figures (the edge clients are reported together). */
function addFigures(a: ProcFigures | undefined, b: ProcFigures): ProcFigures {
  if (!a) return b;
  const syscalls = a.syscalls && b.syscalls ? { ...a.syscalls } : undefined;
  if (syscalls && b.syscalls) for (const [k, v] of Object.entries(b.syscalls)) syscalls[k] = (syscalls[k] ?? 0) + v;
  return {
    cpuUs: a.cpuUs + b.cpuUs,
    sysUs: a.sysUs + b.sysUs,
    mainUs: a.mainUs + b.mainUs,
    ctxSwitches: a.ctxSwitches + b.ctxSwitches,
    syscalls,
  };
}

const fmt = (x: number | null, digits = 1): string => (x === null ? '-' : x.toFixed(digits));
const spread = (xs: number[], digits = 1): string => {
  const s = summarize(xs);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}-${fmt(s.max, digits)})`;
};

/** The markdown table: per variant and process, medians (min-max) over the loads. */
function render(rounds: readonly Round[], labels: readonly string[]): string {
  const names = [...Object.keys(rounds[0].procs), 'tunnel'];
  const lines = [
    '| variant | process | CPU µs/req | of which sys | main thread | ctx switches/req | syscalls/req (strace) |',
    '|---|---|---:|---:|---:|---:|---|',
  ];
  for (const label of labels) {
    const of = rounds.filter((r) => r.label === label);
    for (const name of names) {
      const fig = (r: Round): ProcFigures => (name === 'tunnel' ? Object.values(r.procs).reduce(addFigures) : r.procs[name]);
      const col = (f: (p: ProcFigures) => number, digits = 1): string =>
        spread(
          of.map((r) => f(fig(r))),
          digits,
        );
      const sc = fig(of[0]).syscalls;
      const sys = sc ? Object.keys(sc).map((k) => `${k} ${col((p) => p.syscalls?.[k] ?? NaN, 2)}`) : [];
      const cells = [col((p) => p.cpuUs), col((p) => p.sysUs), col((p) => p.mainUs), col((p) => p.ctxSwitches, 2), sys.join(', ')];
      lines.push(`| ${label} | ${name} | ${cells.join(' | ')} |`);
    }
    lines.push(
      `| ${label} | req/s | ${spread(
        of.map((r) => r.reqPerSec),
        0,
      )} | | | | |`,
    );
    lines.push(`| ${label} | p99 ms | ${spread(of.map((r) => r.p99Ms))} | | | | |`);
    lines.push(`| ${label} | % to bench-1 | ${spread(of.map((r) => r.share * 100))} | | | | |`);
  }
  return lines.join('\n');
}

/** Tunnel CPU µs per request of a load (exit server + edge clients). */
const tunnelUs = (r: Round): number => Object.values(r.procs).reduce((a, p) => a + p.cpuUs, 0);

/** Per rep, `label`'s tunnel CPU per request over `connection`'s in the same rep. */
function ratios(rounds: readonly Round[], label: string, variants: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + variants <= rounds.length; i += variants) {
    const rep = rounds.slice(i, i + variants);
    const a = rep.find((r) => r.label === label);
    const b = rep.find((r) => r.label === 'connection');
    if (a && b) out.push(tunnelUs(a) / tunnelUs(b));
  }
  return out;
}

/** request, connection and the --variant ones. */
function variantsOf(o: Options): Variant[] {
  const spec = (name: string): SystemSpec => SYSTEMS.find((s) => s.name === name) ?? SYSTEMS[0];
  const out: Variant[] = [
    { label: 'request', spec: spec('tunnel-2'), env: {} },
    { label: 'connection', spec: spec('tunnel-2 conn'), env: {} },
  ];
  for (const v of o.variants) {
    const m = /^([\w-]+):(\w+)=(.*)$/.exec(v);
    if (!m) throw new Error(`--variant wants LABEL:NAME=VALUE, got ${v}`);
    out.push({ label: m[1], spec: spec('tunnel-2'), env: { [m[2]]: m[3] } });
  }
  return out;
}

/** Starts every variant's system (each with its environment: childEnv copies ours) and warms it. */
async function startAll(variants: readonly Variant[], ctx: RunContext, o: Options): Promise<RunningSystem[]> {
  const systems: RunningSystem[] = [];
  try {
    for (const v of variants) {
      const saved = { ...process.env };
      Object.assign(process.env, v.env);
      try {
        systems.push(await startSystem(v.spec, ctx));
      } finally {
        for (const k of Object.keys(v.env)) if (saved[k] === undefined) delete process.env[k];
        Object.assign(process.env, saved);
      }
      const sys = systems[systems.length - 1];
      // PIDs name the processes' profiles (BENCH_CPU_PROF_DIR, see tunnel-procs.ts).
      process.stderr.write(`${v.label}: ${sys.tunnelProcs.map((p) => `${p.name} ${p.pid}`).join(', ')}\n`);
      await warm(sys, o);
    }
  } catch (err) {
    for (const sys of systems) await sys.stop();
    throw err;
  }
  return systems;
}

/** One pair: every variant's system started, loaded --reps times in rotating order, stopped. */
async function runPair(variants: readonly Variant[], ctx: RunContext, o: Options, dir: string): Promise<Round[]> {
  const systems = await startAll(variants, ctx, o);
  const rounds: Round[] = [];
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (rep + k) % variants.length;
        const r = await measureLoad(systems[i], variants[i].label, o, dir, ctx.token);
        rounds.push(r);
        process.stderr.write(
          `  ${r.label}: ${fmt(tunnelUs(r))} µs/req (tunnel), ${fmt(r.reqPerSec, 0)} req/s, ${fmt(r.share * 100)}% to bench-1\n`,
        );
      }
    }
  } finally {
    for (const sys of systems) await sys.stop();
  }
  return rounds;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const variants = variantsOf(o);
  const builds = await snapshotBuilds();
  const dir = mkdtempSync(`${os.tmpdir()}/balance-cost-`);
  const ctx: RunContext = { token: newToken(), bins: builds.bins, peers: { ...detectPeers(), haproxy: { missing: 'unused' } } };
  const rounds: Round[] = [];
  const load0 = os.loadavg()[0];
  try {
    for (let pair = 0; pair < o.pairs; pair++) rounds.push(...(await runPair(variants, ctx, o, dir)));
  } finally {
    builds.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const labels = variants.map((v) => v.label);
  const lines = [render(rounds, labels), ''];
  for (const label of labels.filter((l) => l !== 'connection')) {
    const r = ratios(rounds, label, variants.length);
    lines.push(
      `${label} ÷ connection, tunnel CPU µs/req per rep: ${r.map((x) => x.toFixed(2)).join(', ')} (median ${fmt(summarize(r).median, 2)})`,
    );
  }
  const load = `load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`;
  lines.push(
    `${o.amount} GET /small (${SMALL_BYTES} B) per load on ${o.connections} keep-alive connections; ${o.pairs} pairs x ${o.reps} reps; ${load}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

process.on('exit', killAllNow);
main().then(
  () => stopAll(),
  async (err: unknown) => {
    process.stderr.write(`balance-cost: ${(err as Error).stack ?? err}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
