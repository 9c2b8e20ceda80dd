// The bench's command line: `npm run bench [-- options]`.
import { parseArgs } from 'node:util';
import type { Peers } from './peers.ts';
import { SETUP_HINT } from './peers.ts';
import { SHAPES, TCP_STREAM_BYTES, TCP_STREAM_BYTES_QUICK } from './shapes.ts';
import type { SystemSpec } from './systems.ts';

/** `--help` text. */
export const USAGE = `Usage: npm run bench [-- options]

  --quick          CI smoke run: 1 round, 2 s per shape, no warm-up, 256 MiB TCP stream,
                   200 idle clients; systems whose tool is missing are skipped (and named)
  --rounds N       rounds (default 3; system order alternates each round)
  --duration S     seconds per shape per system (default 10)
  --warmup S       warm-up seconds per system, split across shapes (default 3; 0 = none)
  --scale LIST     idle-client counts, comma-separated (default 1000,10000; quick 200; 0 = skip)
  --tcp-mib N      MiB per TCP stream transfer (default 1024; quick 256; 0 = skip)
  -h, --help       this text

Needs nginx, sshd, ssh and ssh-keygen (Debian: ${SETUP_HINT}).
`;

/** The parsed command line. */
export interface BenchOptions {
  /** `--help`. */
  readonly help: boolean;
  /** `quick` with --quick, else `full`. */
  readonly mode: 'quick' | 'full';
  /** Rounds. */
  readonly rounds: number;
  /** Seconds per shape per system. */
  readonly durationSec: number;
  /** Warm-up seconds per system. */
  readonly warmupSec: number;
  /** Idle-client counts (empty: skip). */
  readonly scale: readonly number[];
  /** Bytes per TCP stream transfer (0: skip). */
  readonly tcpBytes: number;
}

function int(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
  return n;
}

/** Parses `argv`; throws on a bad flag or value. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      scale: { type: 'string' },
      'tcp-mib': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick === true;
  const scale =
    values.scale === undefined
      ? quick
        ? [200]
        : [1000, 10000]
      : values.scale
          .split(',')
          .map((s) => int('scale', s.trim(), 0, 0))
          .filter((n) => n > 0);
  return {
    help: values.help === true,
    mode: quick ? 'quick' : 'full',
    rounds: int('rounds', values.rounds, quick ? 1 : 3, 1),
    durationSec: int('duration', values.duration, quick ? 2 : 10, 1),
    warmupSec: int('warmup', values.warmup, quick ? 0 : 3, 0),
    scale,
    tcpBytes: int('tcp-mib', values['tcp-mib'], (quick ? TCP_STREAM_BYTES_QUICK : TCP_STREAM_BYTES) / 1024 ** 2, 0) * 1024 ** 2,
  };
}

/** Warm-up seconds per shape: the per-system warm-up split across shapes, at least 1 s each. */
export const warmupPerShape = (warmupSec: number): number => (warmupSec > 0 ? Math.max(1, Math.round(warmupSec / SHAPES.length)) : 0);

/** Planned progress steps. */
export function plannedSteps(opts: BenchOptions, systems: readonly SystemSpec[], peers: Peers): number {
  const warm = warmupPerShape(opts.warmupSec) > 0 ? SHAPES.length : 0;
  const perRound = systems.reduce((sum, s) => sum + warm + SHAPES.length + (s.tcp && opts.tcpBytes > 0 ? 1 : 0), 0);
  const lifecycle = opts.rounds * (2 + (peers.ssh.sshd ? 1 : 0));
  return opts.rounds * perRound + opts.scale.length + lifecycle + (peers.haproxy.missing ? 0 : 3);
}
