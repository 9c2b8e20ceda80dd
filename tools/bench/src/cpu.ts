// CPU time of processes we started, from /proc/<pid>/stat (Linux). utime + stime in clock ticks.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck: number | undefined;

/** A process whose CPU time is charged: `tree` counts it and all its descendants (see treeTicks). */
export interface ProcRef {
  /** Name in the tick maps. */
  readonly name: string;
  /** PID (undefined when the spawn failed: its ticks are unknown). */
  readonly pid: number | undefined;
  /** Charge the whole process tree. */
  readonly tree?: boolean;
}

/** Clock ticks by process name; undefined when unreadable. */
export type TickMap = Record<string, number | undefined>;

/** The host's CPU time in clock ticks over all cores. */
export interface HostTicks {
  /** Idle plus iowait ticks. */
  readonly idle: number;
  /** All ticks (user nice system idle iowait irq softirq steal). */
  readonly total: number;
}

/** `[pid, ppid, utime+stime, cutime+cstime]` of one process. */
type ProcRow = [number, number, number, number];

/** Clock ticks per second (`getconf CLK_TCK`, 100 almost everywhere). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * The fields of /proc/<pid>/stat from field 3 (state) on, so field k is at index k - 3 (ppid 1,
 * utime 11, stime 12, cutime 13, cstime 14). Throws when unreadable.
 */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is parenthesised and may hold spaces: count fields after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of `pid` in clock ticks (all its threads), or undefined if unreadable. */
export function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const f = statFields(pid);
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/**
 * utime + stime of this process's children that have exited and been reaped (cutime + cstime of
 * /proc/self/stat), in clock ticks; undefined if unreadable. Around one autocannon run, whose
 * exit node reaps before reporting it, the difference is that run's CPU.
 */
export function reapedChildTicks(): number | undefined {
  try {
    const f = statFields('self');
    return Number(f[13]) + Number(f[14]);
  } catch {
    return undefined;
  }
}

/** A row per process, or [] when /proc is unreadable. */
function allProcs(): ProcRow[] {
  const out: ProcRow[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const f = statFields(n);
      out.push([Number(n), Number(f[1]), Number(f[11]) + Number(f[12]), Number(f[13]) + Number(f[14])]);
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/**
 * CPU ticks of `pid` and all its descendants: their own utime+stime plus cutime+cstime (the
 * time of children that already exited and were reaped), so a forking server (sshd: listener,
 * per-connection monitor and session processes) is charged in full.
 */
export function treeTicks(pid: number | undefined, procs: readonly ProcRow[] = allProcs()): number | undefined {
  const children = new Map<number, number[]>();
  const byPid = new Map<number, ProcRow>();
  for (const p of procs) {
    byPid.set(p[0], p);
    if (!children.has(p[1])) children.set(p[1], []);
    children.get(p[1])?.push(p[0]);
  }
  if (pid === undefined || !byPid.has(pid)) return undefined;
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = byPid.get(todo.pop() as number);
    if (!p) continue;
    ticks += p[2] + p[3];
    todo.push(...(children.get(p[0]) ?? []));
  }
  return ticks;
}

/** PIDs of every descendant of `pid` (not `pid` itself). */
export function descendants(pid: number | undefined): number[] {
  const procs = allProcs();
  const out: number[] = [];
  const todo = pid === undefined ? [] : [pid];
  while (todo.length > 0) {
    const parent = todo.pop();
    for (const p of procs) {
      if (p[1] === parent) {
        out.push(p[0]);
        todo.push(p[0]);
      }
    }
  }
  return out;
}

/** Snapshot of `{ name: ticks }` for the given processes (`tree`: see treeTicks). */
export function snapshot(procs: readonly ProcRef[]): TickMap {
  const all = procs.some((p) => p.tree) ? allProcs() : undefined;
  return Object.fromEntries(procs.map((p) => [p.name, p.tree ? treeTicks(p.pid, all) : cpuTicks(p.pid)]));
}

/**
 * The host's CPU time so far from the first line of /proc/stat, in clock ticks summed over all
 * cores, where idle counts idle and iowait. Undefined when unreadable.
 */
export function hostTicks(): HostTicks | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle: fields[3] + fields[4], total };
  } catch {
    return undefined;
  }
}

/**
 * Share of the host's CPU (all cores) that was busy between two hostTicks() readings, 0-1; null
 * when unknown. On 2 cores a system that leaves the host idle during a load run is waiting on
 * itself, not on the CPU.
 */
export function busyShare(before: HostTicks | undefined, after: HostTicks | undefined): number | null {
  if (!before || !after || !(after.total > before.total)) return null;
  return 1 - (after.idle - before.idle) / (after.total - before.total);
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined if unreadable. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size of `pid` in bytes (VmHWM), or undefined if unreadable. */
export function peakRssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** `measure(pid)` summed over `ref`'s process and, for a tree, its descendants; undefined if the first is unreadable. */
export function procMemory(ref: ProcRef, measure: (pid: number | undefined) => number | undefined): number | undefined {
  const own = measure(ref.pid);
  if (own === undefined || !ref.tree) return own;
  return descendants(ref.pid).reduce((sum, pid) => sum + (measure(pid) ?? 0), own);
}

/** Per-process tick deltas between two snapshots; undefined entries when unreadable. */
export function delta(before: TickMap, after: TickMap): TickMap {
  return Object.fromEntries(
    Object.keys(before).map((k) => {
      const b = before[k];
      const a = after[k];
      return [k, b === undefined || a === undefined ? undefined : a - b];
    }),
  );
}

/** Microseconds of CPU per request for a tick delta map, or null when unknown. */
export function usPerRequest(ticksByProc: TickMap, requests: number): number | null {
  const values = Object.values(ticksByProc);
  if (values.length === 0 || !(requests > 0)) return null;
  let ticks = 0;
  for (const v of values) {
    if (v === undefined) return null;
    ticks += v;
  }
  return (ticks * 1e6) / clockTicksPerSecond() / requests;
}
