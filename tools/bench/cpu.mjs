// CPU time of processes we started, from /proc/<pid>/stat (Linux). utime + stime in clock ticks.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** utime + stime of `pid` in clock ticks (all its threads), or undefined if unreadable. */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may hold spaces: count fields after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return undefined;
  }
}

/** Snapshot of `{ name: ticks }` for the given `{ name, pid }` processes. */
export function snapshot(procs) {
  return Object.fromEntries(procs.map((p) => [p.name, cpuTicks(p.pid)]));
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
