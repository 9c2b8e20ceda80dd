// Report section: each process of ssh -R and of the tunnel on its own (CPU per small request,
// per MB downloaded and uploaded, idle and peak RSS), so the device side of each system shows.
import { clockTicksPerSecond, type TickMap } from './cpu.ts';
import { fmt } from './goals.ts';
import type { ProcMemory } from './measure.ts';
import { SHAPES } from './shapes.ts';
import { median } from './stats.ts';
import type { Run } from './summary.ts';

/** Systems shown, in order: the encrypted ones first. */
const SYSTEMS = ['tunnel wss', 'ssh -R', 'tunnel'];
const MiB = 1024 * 1024;

/** What a process is, as the table names it. */
function label(proc: string): string {
  if (proc === 'exit-server') return 'exit server';
  if (proc.startsWith('edge-client')) return 'edge client (device)';
  if (proc === 'sshd') return 'sshd (all its processes)';
  if (proc === 'ssh') return 'ssh client (device)';
  return proc;
}

/** The process key in `ticks` named `proc` (exactly, or as `proc-<id>` as edge clients are named). */
function procKey(ticks: TickMap, proc: string): string | undefined {
  if (proc in ticks) return proc;
  return Object.keys(ticks).find((k) => k.startsWith(`${proc}-`));
}

/**
 * Median over rounds of `proc`'s CPU µs per unit in `shape` (per request for small, per MB for
 * bodies); `proc` may name a process family (`edge-client` for `edge-client-bench-1`).
 */
export function processUsPer(runs: readonly Run[], system: string, shapeName: string, proc: string): number | undefined {
  const shape = SHAPES.find((s) => s.name === shapeName);
  if (!shape) return undefined;
  const values = runs
    .filter((r) => r.system === system && r.shape === shapeName)
    .map((r) => {
      const key = procKey(r.cpu.tunnelTicks, proc);
      const ticks = key === undefined ? undefined : r.cpu.tunnelTicks[key];
      const units = shape.name === 'small' ? r.figures.requests : (r.figures.requests * shape.bodyBytes) / 1e6;
      return ticks === undefined || !(units > 0) ? NaN : (ticks * 1e6) / clockTicksPerSecond() / units;
    })
    .filter(Number.isFinite);
  return median(values) ?? undefined;
}

function memory(mem: readonly ProcMemory[], system: string, proc: string, key: 'idleRssBytes' | 'peakRssBytes'): number | undefined {
  const values = mem.filter((m) => m.system === system && m.proc === proc).map((m) => (m[key] ?? NaN) / MiB);
  const known = values.filter(Number.isFinite);
  return median(known) ?? undefined;
}

/** The per-process table (empty when none of its systems ran). */
export function renderProcesses(runs: readonly Run[], mem: readonly ProcMemory[]): string[] {
  const rows: string[] = [];
  for (const system of SYSTEMS) {
    const procs = [...new Set(runs.filter((r) => r.system === system).flatMap((r) => Object.keys(r.cpu.tunnelTicks)))];
    for (const proc of procs) {
      const cells = [
        processUsPer(runs, system, 'small', proc),
        processUsPer(runs, system, 'download', proc),
        processUsPer(runs, system, 'upload', proc),
        memory(mem, system, proc, 'idleRssBytes'),
        memory(mem, system, proc, 'peakRssBytes'),
      ];
      rows.push(`| ${system} | ${label(proc)} | ${cells.map((c) => fmt(c)).join(' | ')} |`);
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Each process on its own: the encrypted systems first',
    '',
    'CPU (utime+stime from /proc/PID/stat) per completed small request and per MB of 1 MiB downloads and 10 MB uploads, medians over rounds; RSS once the system served its first requests (idle) and its peak (VmHWM) after every shape, MiB. `tunnel wss`: the edge client dials wss:// and the exit server terminates TLS (a throw-away certificate); ssh -R encrypts with chacha20-poly1305.',
    '',
    '| System | Process | CPU µs/small req | CPU µs/MB download | CPU µs/MB upload | idle RSS MiB | peak RSS MiB |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}
