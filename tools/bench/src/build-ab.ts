// node tools/bench/dist/build-ab.js [--rounds N] [--amount N] [--warmup N] [--connections N]
//   [--shape small|download|upload] [--transport ws|wss|both] [--node-flags LABEL:FLAG,FLAG ...] LABEL=DIR ...
// CPU of the exit server and the edge client of several builds, side by side, on a host shared
// with other work where req/s is noise. Each DIR holds exit-server.mjs and edge-client.mjs
// (copies of apps/*/dist/main.js of one build; LABEL=. takes this checkout's dist). One upstream
// serves every build; each build runs one exit server and one edge client per transport (ws://,
// or wss:// with a throw-away certificate as the bench makes it) with the flags and environment
// of the bench. Every round loads each system in turn with --amount requests of the bench's
// --shape (GET /small, 1 MiB GET /big, 10 MB POST /upload; --connections defaults to the
// shape's), the order reversed every other round so host load drifts hit the systems alike,
// and prints utime+stime of each process (/proc/<pid>/stat) in µs per request (small) or per
// MB (10^6 bytes of bodies; download and upload); the end gives medians and the pairwise median
// ratio to the first system. Run an A/A (the same DIR twice) to see the host's noise.
// --node-flags runs LABEL's processes with those node flags instead of the images' (to A/B a
// flag on one build: `--node-flags b:--max-semi-space-size=4 a=. b=.`).
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { freePorts, httpRequest, newToken, throwAwayCertificate, type ThrowAwayCertificate } from '@tunnel/testing';
import { snapshotBuilds, type Bins } from './builds.ts';
import { stopAll, type ChildHandle } from './children.ts';
import { clockTicksPerSecond, cpuTicks } from './cpu.ts';
import { positiveIntFlag } from './int-flag.ts';
import { runLoad } from './load.ts';
import { SHAPES, type Shape } from './shapes.ts';
import { summarize } from './stats.ts';
import { READY_TIMEOUT_MS, startEdgeClient, startExitServer, startUpstream } from './tunnel-procs.ts';
import { until } from './wait.ts';

/** Settings from the command line. */
interface Options {
  readonly rounds: number;
  readonly amount: number;
  readonly warmup: number;
  readonly connections: number;
  /** The load: one of the bench's shapes. */
  readonly shape: Shape;
  /** Transports each build runs with. */
  readonly transports: readonly Transport[];
  /** LABEL and directory of each build, first one the reference; its node flags when not the images'. */
  readonly builds: readonly { readonly label: string; readonly dir: string; readonly nodeFlags?: readonly string[] }[];
}

/** How the edge client dials: ws:// or wss:// (the exit server with --tls-cert). */
type Transport = 'ws' | 'wss';

/** Default requests per load and per warm-up for each shape: a few seconds each here. */
const AMOUNTS: Readonly<Record<string, { amount: number; warmup: number }>> = {
  small: { amount: 30_000, warmup: 20_000 },
  download: { amount: 2_000, warmup: 500 },
  upload: { amount: 200, warmup: 50 },
};

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

/** The `--node-flags LABEL:FLAG,FLAG` arguments, by label. */
function nodeFlagsByLabel(argv: readonly string[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  argv.forEach((a, i) => {
    const v = argv[i + 1];
    if (a !== '--node-flags' || v === undefined || !v.includes(':')) return;
    by.set(v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1).split(','));
  });
  return by;
}

function parseArgs(argv: readonly string[]): Options {
  const num = (flag: string, dflt: number): number => positiveIntFlag(argv, flag, dflt);
  const value = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const shapeName = value('--shape') ?? 'small';
  const shape = SHAPES.find((s) => s.name === shapeName);
  if (!shape) throw new Error(`--shape wants one of ${SHAPES.map((s) => s.name).join(', ')}`);
  const transport = value('--transport') ?? 'ws';
  if (!['ws', 'wss', 'both'].includes(transport)) throw new Error('--transport wants ws, wss or both');
  const flags = nodeFlagsByLabel(argv);
  const builds = argv
    .filter((a, i) => a.includes('=') && !argv[i - 1]?.startsWith('--'))
    .map((a) => ({
      label: a.slice(0, a.indexOf('=')),
      dir: a.slice(a.indexOf('=') + 1),
      nodeFlags: flags.get(a.slice(0, a.indexOf('='))),
    }));
  if (builds.length === 0)
    throw new Error('name at least one build: LABEL=DIR (DIR with exit-server.mjs and edge-client.mjs, or . for this checkout)');
  return {
    rounds: num('--rounds', 6),
    amount: num('--amount', AMOUNTS[shape.name].amount),
    warmup: num('--warmup', AMOUNTS[shape.name].warmup),
    connections: num('--connections', shape.connections),
    shape,
    transports: transport === 'both' ? ['ws', 'wss'] : [transport as Transport],
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

/** Where one build's processes listen and what its edge client dials. */
interface BuildPlace {
  readonly label: string;
  readonly bins: Bins;
  readonly token: string;
  readonly upstreamPort: number;
  /** The certificate the exit server serves and the edge client trusts: wss://. */
  readonly tls?: ThrowAwayCertificate;
  /** Node flags of both processes (the images' when undefined). */
  readonly nodeFlags?: readonly string[];
}

async function startBuild(b: BuildPlace, shape: Shape): Promise<System> {
  const { label, bins, token, tls, nodeFlags } = b;
  const [port, controlPort] = await freePorts(2);
  const extraArgs = tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : [];
  const exit = await startExitServer({ bins, token, port, controlPort, extraArgs, tls: !!tls, name: `${label}-exit-server`, nodeFlags });
  const upstreamUrl = `http://127.0.0.1:${b.upstreamPort}`;
  const edge = startEdgeClient({
    bins,
    token,
    controlPort,
    upstreamUrl,
    id: `${label.replace('/', '-')}-1`,
    caFile: tls?.certFile,
    nodeFlags,
  });
  const base = `http://127.0.0.1:${port}`;
  const serves = async (): Promise<boolean> => (await httpRequest(`${base}/small`, { timeoutMs: 2000 })).status === 200;
  await until(Date.now() + READY_TIMEOUT_MS, [exit, edge], serves, `GET ${base}/small through ${label}`);
  return { label, exit, edge, url: `${base}${shape.path}` };
}

/** The load of one measurement: `amount` requests of the shape (an upload sends `uploadFile`). */
function load(s: System, o: Options, amount: number, uploadFile: string): ReturnType<typeof runLoad> {
  const { shape } = o;
  const upload = shape.upload
    ? { method: shape.method, bodyFile: uploadFile, expectBody: `bytes=${shape.bodyBytes}`, uploadBytes: shape.bodyBytes }
    : {};
  return runLoad({ url: s.url, connections: o.connections, amount, ...upload });
}

/** Per how many requests a figure is given: 1 (small), or the requests of one MB of bodies. */
function perUnit(shape: Shape): number {
  return shape.name === 'small' ? 1 : 1e6 / shape.bodyBytes;
}

async function measure(s: System, o: Options, uploadFile: string): Promise<Sample> {
  const before = [cpuTicks(s.exit.pid), cpuTicks(s.edge.pid)];
  const run = await load(s, o, o.amount, uploadFile);
  const after = [cpuTicks(s.exit.pid), cpuTicks(s.edge.pid)];
  const ok = run.raw['2xx'];
  if (ok === 0) throw new Error(`${s.label}: no request answered 2xx`);
  const units = ok / perUnit(o.shape);
  const us = (i: number): number => (((after[i] ?? NaN) - (before[i] ?? NaN)) / clockTicksPerSecond() / units) * 1e6;
  return { exitUs: us(0), edgeUs: us(1), reqPerSec: run.figures.reqPerSec };
}

const fmt = (n: number): string => n.toFixed(1);
const unitName = (shape: Shape): string => (shape.name === 'small' ? 'request' : 'MB');

function report(o: Options, samples: ReadonlyMap<string, Sample[]>, load0: number): string[] {
  const lines: string[] = [];
  const median = (xs: number[]): number => summarize(xs).median ?? NaN;
  const labels = [...samples.keys()];
  const ref = samples.get(labels[0]) ?? [];
  for (const label of labels) {
    const m = samples.get(label) ?? [];
    const sum = (x: Sample): number => x.exitUs + x.edgeUs;
    const ratio = (f: (x: Sample) => number): string => fmt(median(m.map((x, i) => f(x) / f(ref[i]))) * 100);
    lines.push(
      `median ${label}: exit server ${fmt(median(m.map((x) => x.exitUs)))}, edge client ${fmt(median(m.map((x) => x.edgeUs)))}, ` +
        `sum ${fmt(median(m.map(sum)))} µs/${unitName(o.shape)}; ${Math.round(median(m.map((x) => x.reqPerSec)))} req/s; ` +
        `pairwise median vs ${labels[0]}: exit ${ratio((x) => x.exitUs)}%, edge ${ratio((x) => x.edgeUs)}%, sum ${ratio(sum)}%`,
    );
  }
  lines.push(
    `${o.amount} ${o.shape.method} ${o.shape.path} (${o.shape.bodyBytes} B) per load on ${o.connections} keep-alive connections, ${o.rounds} rounds; ` +
      `load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
  );
  return lines;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const base = await snapshotBuilds();
  const token = newToken();
  const load0 = os.loadavg()[0];
  const tls = o.transports.includes('wss') ? throwAwayCertificate('tunnel-build-ab-tls-') : undefined;
  const uploadFile = `${base.dir}/upload.bin`;
  if (o.shape.upload) writeFileSync(uploadFile, Buffer.alloc(o.shape.bodyBytes, 'tunnel-bench-upload '));
  try {
    const upstream = await startUpstream(base.bins);
    const systems: System[] = [];
    for (const b of o.builds) {
      const bins = binsOf(base.bins, base.dir, b.label, b.dir);
      for (const t of o.transports) {
        const label = o.transports.length > 1 ? `${b.label}/${t}` : b.label;
        const place = { label, bins, token, upstreamPort: upstream.http, tls: t === 'wss' ? tls : undefined, nodeFlags: b.nodeFlags };
        systems.push(await startBuild(place, o.shape));
      }
    }
    for (const s of systems) await load(s, o, o.warmup, uploadFile);
    process.stdout.write(`${report(o, await rounds(o, systems, uploadFile), load0).join('\n')}\n`);
  } finally {
    tls?.remove();
    base.dispose();
  }
}

/** Loads every system once per round, alternating the order; each process's CPU per unit. */
async function rounds(o: Options, systems: readonly System[], uploadFile: string): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(systems.map((s) => [s.label, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (const s of r % 2 ? [...systems].reverse() : systems) {
      const x = await measure(s, o, uploadFile);
      samples.get(s.label)?.push(x);
      const at = os.loadavg()[0].toFixed(2);
      process.stdout.write(
        `round ${r} ${s.label}: exit ${fmt(x.exitUs)} edge ${fmt(x.edgeUs)} µs/${unitName(o.shape)}, ${Math.round(x.reqPerSec)} req/s, load ${at}\n`,
      );
    }
  }
  return samples;
}

main().then(
  () => stopAll(),
  async (err: unknown) => {
    process.stderr.write(`build-ab: ${(err as Error).stack ?? err}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
