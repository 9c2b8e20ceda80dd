// CPU time of processes we started, from /proc/<pid>/stat (Linux). utime + stime in clock ticks.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck;

/** Clock ticks per second (`getconf CLK_TCK`, 100 almost everywhere). */
export function clockTicksPerSecond() {
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
function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is parenthesised and may hold spaces: count fields after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of `pid` in clock ticks (all its threads), or undefined if unreadable. */
export function cpuTicks(pid) {
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
export function reapedChildTicks() {
  try {
    const f = statFields('self');
    return Number(f[13]) + Number(f[14]);
  } catch {
    return undefined;
  }
}

/** `[pid, ppid, utime+stime, cutime+cstime]` of every process, or [] when /proc is unreadable. */
function allProcs() {
  const out = [];
  let names;
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
export function treeTicks(pid, procs = allProcs()) {
  const children = new Map();
  const byPid = new Map();
  for (const p of procs) {
    byPid.set(p[0], p);
    if (!children.has(p[1])) children.set(p[1], []);
    children.get(p[1]).push(p[0]);
  }
  if (!byPid.has(pid)) return undefined;
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = byPid.get(todo.pop());
    if (!p) continue;
    ticks += p[2] + p[3];
    todo.push(...(children.get(p[0]) ?? []));
  }
  return ticks;
}

/** PIDs of every descendant of `pid` (not `pid` itself). */
export function descendants(pid) {
  const procs = allProcs();
  const out = [];
  const todo = [pid];
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

/**
 * Snapshot of `{ name: ticks }` for the given `{ name, pid, tree? }` processes (`tree`: the
 * process and all its descendants, see treeTicks).
 */
export function snapshot(procs) {
  const all = procs.some((p) => p.tree) ? allProcs() : undefined;
  return Object.fromEntries(procs.map((p) => [p.name, p.tree ? treeTicks(p.pid, all) : cpuTicks(p.pid)]));
}

/**
 * The host's CPU time so far from the first line of /proc/stat, in clock ticks summed over all
 * cores: `{ idle, total }`, where idle counts idle and iowait. Undefined when unreadable.
 */
export function hostTicks() {
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
export function busyShare(before, after) {
  if (!before || !after || !(after.total > before.total)) return null;
  return 1 - (after.idle - before.idle) / (after.total - before.total);
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined if unreadable. */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Per-process tick deltas between two snapshots; undefined entries when unreadable. */
export function delta(before, after) {
  return Object.fromEntries(
    Object.keys(before).map((k) => [k, before[k] === undefined || after[k] === undefined ? undefined : after[k] - before[k]]),
  );
}

/** Microseconds of CPU per request for a tick delta map, or null when unknown. */
export function usPerRequest(ticksByProc, requests) {
  const values = Object.values(ticksByProc);
  if (values.length === 0 || values.some((v) => v === undefined) || !(requests > 0)) return null;
  const ticks = values.reduce((a, b) => a + b, 0);
  return (ticks * 1e6) / clockTicksPerSecond() / requests;
}
