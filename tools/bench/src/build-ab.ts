// node tools/bench/dist/build-ab.js [--rounds N] [--amount N] [--warmup N] [--connections N] LABEL=DIR ...
// CPU per small request of the exit server and the edge client of several builds, side by side,
// on a host shared with other work where req/s is noise. Each DIR holds exit-server.mjs and
// edge-client.mjs (copies of apps/*/dist/main.js of one build; LABEL=. takes this checkout's
// dist). One upstream serves every build; each build runs one exit server and one edge client
// with the flags and environment of the bench. Every round loads each build in turn with
// --amount GET /small on --connections keep-alive connections, the order reversed every other
// round so host load drifts hit the builds alike, and prints utime+stime µs/request of each
// process (/proc/<pid>/stat); the end gives medians and the pairwise median ratio to the first
// build. Run an A/A (the same DIR twice) to see the host's noise.
import { copyFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { freePorts, httpRequest, newToken } from '@tunnel/testing';
import { snapshotBuilds, type Bins } from './builds.ts';
import { stopAll, type ChildHandle } from './children.ts';
import { clockTicksPerSecond, cpuTicks } from './cpu.ts';
import { positiveIntFlag } from './int-flag.ts';
import { runLoad } from './load.ts';
import { SMALL_BYTES } from './shapes.ts';
import { summarize } from './stats.ts';
import { READY_TIMEOUT_MS, startEdgeClient, startExitServer, startUpstream } from './tunnel-procs.ts';
import { until } from './wait.ts';

/** Settings from the command line. */
interface Options {
  readonly rounds: number;
  readonly amount: number;
  readonly warmup: number;
  readonly connections: number;
  /** LABEL and directory of each build, first one the reference. */
  readonly builds: readonly { readonly label: string; readonly dir: string }[];
}

/** One build's running processes. */
interface System {
  readonly label: string;
  readonly exit: ChildHandle;
  readonly edge: ChildHandle;
  readonly url: string;
}

/** One measured load of one build: µs/request per process, and req/s. */
interface Sample {
  readonly exitUs: number;
  readonly edgeUs: number;
  readonly reqPerSec: number;
}

function parseArgs(argv: readonly string[]): Options {
  const num = (flag: string, dflt: number): number => positiveIntFlag(argv, flag, dflt);
  const builds = argv
    .filter((a, i) => a.includes('=') && !argv[i - 1]?.startsWith('--'))
    .map((a) => ({ label: a.slice(0, a.indexOf('=')), dir: a.slice(a.indexOf('=') + 1) }));
  if (builds.length === 0)
    throw new Error('name at least one build: LABEL=DIR (DIR with exit-server.mjs and edge-client.mjs, or . for this checkout)');
  return {
    rounds: num('--rounds', 6),
    amount: num('--amount', 30_000),
    warmup: num('--warmup', 20_000),
    connections: num('--connections', 100),
    builds,
  };
}

/** The bench's programs with private copies of the apps of `dir` in `into` ('.' keeps this checkout's). */
function binsOf(base: Bins, into: string, label: string, dir: string): Bins {
  if (dir === '.') return base;
  // Copies, as snapshotBuilds makes: the directory may be rebuilt while we run.
  const copy = (app: 'exit-server' | 'edge-client'): string => {
    if (!existsSync(`${dir}/${app}.mjs`)) throw new Error(`${dir}/${app}.mjs is missing`);
    const to = `${into}/${label}-${app}.mjs`;
    copyFileSync(`${dir}/${app}.mjs`, to);
    return to;
  };
  return { ...base, 'exit-server': copy('exit-server'), 'edge-client': copy('edge-client') };
}

async function startBuild(label: string, bins: Bins, token: string, upstreamPort: number): Promise<System> {
  const [port, controlPort] = await freePorts(2);
  const exit = await startExitServer({ bins, token, port, controlPort, name: `${label}-exit-server` });
  const edge = startEdgeClient({ bins, token, controlPort, upstreamUrl: `http://127.0.0.1:${upstreamPort}`, id: `${label}-1` });
  const url = `http://127.0.0.1:${port}/small`;
  const serves = async (): Promise<boolean> => (await httpRequest(url, { timeoutMs: 2000 })).status === 200;
  await until(Date.now() + READY_TIMEOUT_MS, [exit, edge], serves, `GET ${url} through ${label}`);
  return { label, exit, edge, url };
}

async function measure(s: System, o: Options): Promise<Sample> {
  const before = [cpuTicks(s.exit.pid), cpuTicks(s.edge.pid)];
  const run = await runLoad({ url: s.url, connections: o.connections, amount: o.amount });
  const after = [cpuTicks(s.exit.pid), cpuTicks(s.edge.pid)];
  const ok = run.raw['2xx'];
  if (ok === 0) throw new Error(`${s.label}: no request answered 2xx`);
  const us = (i: number): number => (((after[i] ?? NaN) - (before[i] ?? NaN)) / clockTicksPerSecond() / ok) * 1e6;
  return { exitUs: us(0), edgeUs: us(1), reqPerSec: run.figures.reqPerSec };
}

const fmt = (n: number): string => n.toFixed(1);

function report(o: Options, samples: ReadonlyMap<string, Sample[]>, load0: number): string[] {
  const lines: string[] = [];
  const median = (xs: number[]): number => summarize(xs).median ?? NaN;
  const ref = samples.get(o.builds[0].label) ?? [];
  for (const { label } of o.builds) {
    const m = samples.get(label) ?? [];
    const sum = (x: Sample): number => x.exitUs + x.edgeUs;
    const ratio = (f: (x: Sample) => number): string => fmt(median(m.map((x, i) => f(x) / f(ref[i]))) * 100);
    lines.push(
      `median ${label}: exit server ${fmt(median(m.map((x) => x.exitUs)))}, edge client ${fmt(median(m.map((x) => x.edgeUs)))}, ` +
        `sum ${fmt(median(m.map(sum)))} µs/request; ${Math.round(median(m.map((x) => x.reqPerSec)))} req/s; ` +
        `pairwise median vs ${o.builds[0].label}: exit ${ratio((x) => x.exitUs)}%, edge ${ratio((x) => x.edgeUs)}%, sum ${ratio(sum)}%`,
    );
  }
  lines.push(
    `${o.amount} GET /small (${SMALL_BYTES} B) per load on ${o.connections} keep-alive connections, ${o.rounds} rounds; ` +
      `load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
  );
  return lines;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const base = await snapshotBuilds();
  const token = newToken();
  const load0 = os.loadavg()[0];
  try {
    const upstream = await startUpstream(base.bins);
    const systems: System[] = [];
    for (const b of o.builds) systems.push(await startBuild(b.label, binsOf(base.bins, base.dir, b.label, b.dir), token, upstream.http));
    for (const s of systems) await runLoad({ url: s.url, connections: o.connections, amount: o.warmup });
    const samples = new Map<string, Sample[]>(systems.map((s) => [s.label, []]));
    for (let r = 0; r < o.rounds; r++) {
      for (const s of r % 2 ? [...systems].reverse() : systems) {
        const x = await measure(s, o);
        samples.get(s.label)?.push(x);
        const at = os.loadavg()[0].toFixed(2);
        process.stdout.write(
          `round ${r} ${s.label}: exit ${fmt(x.exitUs)} edge ${fmt(x.edgeUs)} µs/request, ${Math.round(x.reqPerSec)} req/s, load ${at}\n`,
        );
      }
    }
    process.stdout.write(`${report(o, samples, load0).join('\n')}\n`);
  } finally {
    base.dispose();
  }
}

main().then(
  () => stopAll(),
  async (err: unknown) => {
    process.stderr.write(`build-ab: ${(err as Error).stack ?? err}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
