// The run's facts for the report and the JSON: host, versions, load average, commit; and where
// the results go.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { repoRoot, type Builds } from './builds.ts';
import type { BenchOptions } from './options.ts';
import { peerVersions, type Peers } from './peers.ts';

/** A system or section left out, and why. */
export interface Skipped {
  /** System or section name. */
  readonly system: string;
  /** Why (what is missing). */
  readonly reason: string;
}

/** The 1-minute load average over the run. */
export interface LoadAvg {
  /** At the start. */
  readonly start: number;
  /** At the end. */
  readonly end: number;
  /** Mean of the samples (every 5 s). */
  readonly mean: number;
  /** Largest sample. */
  readonly max: number;
}

/** The run's facts. */
export interface RunMeta {
  /** `YYYY-MM-DD HH:MM UTC`. */
  readonly startedAt: string;
  /** `quick` or `full`. */
  readonly mode: BenchOptions['mode'];
  /** Rounds. */
  readonly rounds: number;
  /** Seconds per shape per system. */
  readonly durationSec: number;
  /** Warm-up seconds per system. */
  readonly warmupSec: number;
  /** Bytes per TCP stream transfer. */
  readonly tcpBytes: number;
  /** Idle-client counts. */
  readonly scaleN: readonly number[];
  /** Wall time of the run, s. */
  readonly wallTimeSec: number;
  /** Host load. */
  readonly loadAvg: LoadAvg;
  /** Short commit hash, if known. */
  readonly commit: string | undefined;
  /** SHA-256 of the app bundles. */
  readonly bundleSha256: Builds['sha256'];
  /** autocannon's version. */
  readonly autocannonVersion: string;
  /** nginx and ssh versions. */
  readonly peerVersions: Record<string, string>;
  /** What was skipped. */
  readonly skipped: readonly Skipped[];
  /** CPU, cores, OS and Node. */
  readonly host: { readonly cpuModel: string; readonly cpus: number; readonly platform: string; readonly node: string };
  /** Failure messages (exit code 1 when any). */
  readonly failures: readonly string[];
}

/** Samples the 1-minute load average every 5 s; `stop()` returns the mean, the max and the count. */
export function sampleLoad(): { stop(): { mean: number; max: number; samples: number } } {
  const samples = [os.loadavg()[0]];
  const timer = setInterval(() => samples.push(os.loadavg()[0]), 5000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      samples.push(os.loadavg()[0]);
      return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, max: Math.max(...samples), samples: samples.length };
    },
  };
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: fileURLToPath(repoRoot()),
      encoding: 'utf8',
      timeout: 5000,
    }).trim();
  } catch {
    return undefined;
  }
}

/** What {@link runMeta} reads from the run. */
export interface MetaInput {
  readonly opts: BenchOptions;
  readonly started: Date;
  readonly loadAtStart: number;
  readonly load: { mean: number; max: number };
  readonly builds: Builds;
  readonly peers: Peers;
  readonly skipped: readonly Skipped[];
  readonly failures: readonly string[];
}

/** The run's facts at its end. */
export function runMeta({ opts, started, loadAtStart, load, builds, peers, skipped, failures }: MetaInput): RunMeta {
  const acPkg = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('autocannon/package.json'), 'utf8')) as { version: string };
  const cpus = os.cpus();
  return {
    startedAt: `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    mode: opts.mode,
    rounds: opts.rounds,
    durationSec: opts.durationSec,
    warmupSec: opts.warmupSec,
    tcpBytes: opts.tcpBytes,
    scaleN: opts.scale,
    wallTimeSec: (Date.now() - started.getTime()) / 1000,
    loadAvg: { start: loadAtStart, end: os.loadavg()[0], mean: load.mean, max: load.max },
    commit: commit(),
    bundleSha256: builds.sha256,
    autocannonVersion: acPkg.version,
    peerVersions: peerVersions(peers),
    skipped,
    host: {
      cpuModel: cpus[0]?.model?.trim() ?? 'unknown CPU',
      cpus: cpus.length,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
    },
    failures,
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');
/** `YYYY-MM-DD-HHMM` in local time. */
export const stampOf = (d: Date): string =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`;

/** bench/results/<stamp>.{md,json,svg}, with -2, -3... when that minute is taken already. */
export function resultPaths(stamp: string): { md: string; json: string; svg: string } {
  const dir = fileURLToPath(new URL('bench/results', repoRoot()));
  mkdirSync(dir, { recursive: true });
  for (let i = 1; ; i++) {
    const base = `${dir}/${stamp}${i === 1 ? '' : `-${i}`}`;
    if (!['md', 'json', 'svg'].some((ext) => existsSync(`${base}.${ext}`)))
      return { md: `${base}.md`, json: `${base}.json`, svg: `${base}.svg` };
  }
}
