// npm run bench [-- --quick]: on loopback, a minimal upstream measured DIRECT, through nginx (one
// proxy hop), through OpenSSH `ssh -R`, and through our tunnel with 1 and 2 edge clients:
// small GETs, 1 MiB downloads, 10 MB uploads, a raw TCP stream; then idle-client scale, time to
// first request and resume after an exit-server restart, and scale-out behind HAProxy.
// Prints a markdown report and writes bench/results/<YYYY-MM-DD>-<HHMM>.{md,json,svg} (the JSON
// holds every raw figure and stays out of git; the markdown and the plot are committed).
// Exit code 1 if a system fails to start, a process dies, or a run has more than 1% errors.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { newToken } from '@tunnel/testing';
import { snapshotBuilds, type Builds } from './builds.ts';
import { killAllNow, stopAll } from './children.ts';
import { runHa, type HaResult } from './ha.ts';
import { haproxyMissing } from './haproxy.ts';
import { runLifecycle, type LifecycleResult } from './lifecycle.ts';
import { measure, type Measured } from './measure.ts';
import { resultPaths, runMeta, sampleLoad, stampOf, type Skipped } from './meta.ts';
import { parseOptions, plannedSteps, USAGE, type BenchOptions } from './options.ts';
import { detectPeers, SETUP_HINT, type Peers } from './peers.ts';
import { createProgress, type Progress } from './progress.ts';
import { renderReport } from './report.ts';
import { runScale, type ScaleResult } from './scale.ts';
import { SHAPES } from './shapes.ts';
import { renderLatencySvg } from './svg.ts';
import { summarizeRuns } from './summary.ts';
import { SYSTEMS, type RunContext, type SystemSpec } from './systems.ts';

/** What the sections after the rounds measured. */
interface Sections {
  readonly scale: ScaleResult[];
  lifecycle?: LifecycleResult;
  ha?: HaResult;
}

/** The peers found and the systems to skip; exits (code 1) in full mode when one is missing. */
function choosePeers(opts: BenchOptions): { peers: Peers; skipped: Skipped[] } | number {
  const peers: Peers = { ...detectPeers(), haproxy: { missing: haproxyMissing() } };
  const skipped: Skipped[] = SYSTEMS.filter((s) => s.peer && peers[s.peer].missing).map((s) => ({
    system: s.name,
    reason: peers[s.peer as 'nginx' | 'ssh'].missing as string,
  }));
  // The scale-out section needs HAProxy as its load balancer.
  if (peers.haproxy.missing) skipped.push({ system: 'scale-out (HAProxy)', reason: peers.haproxy.missing });
  if (skipped.length === 0) return { peers, skipped };
  const list = skipped.map((s) => `  - ${s.system}: ${s.reason}`).join('\n');
  if (opts.mode === 'full') {
    process.stderr.write(`bench: the full benchmark compares against nginx and ssh -R, but:\n${list}\nInstall them with: ${SETUP_HINT}\n`);
    return 1;
  }
  process.stderr.write(`bench --quick: SKIPPING systems whose tools are missing (install: ${SETUP_HINT}):\n${list}\n`);
  return { peers, skipped };
}

/** Records a failure of a section in the run's failure list and on the progress display. */
function fail(measured: Measured, progress: Progress, msg: string): void {
  measured.failures.push(msg);
  progress.log(`FAIL ${msg}`);
}

/** Scale, lifecycle and scale-out, after the rounds. */
async function runSections(opts: BenchOptions, ctx: RunContext, measured: Measured, progress: Progress): Promise<Sections> {
  const { bins, token, peers } = ctx;
  const out: Sections = { scale: [] };
  for (const n of opts.scale) {
    progress.phase(`[scale] ${n.toLocaleString('en-US')} idle edge-client sessions on one exit server`);
    const r = await runScale({ n, bins, token, progress });
    out.scale.push(r);
    if (!r.ok) fail(measured, progress, `scale ${n}: ${r.error}`);
    progress.step();
  }
  out.lifecycle = await runLifecycle({ rounds: opts.rounds, bins, token, peers, progress });
  for (const e of out.lifecycle.errors) fail(measured, progress, `lifecycle: ${e}`);
  if (!peers.haproxy.missing) {
    out.ha = await runHa({ bins, token, durationSec: opts.durationSec, progress });
    for (const e of out.ha.errors) fail(measured, progress, `scale-out: ${e}`);
  }
  return out;
}

/** Stops everything on SIGINT/SIGTERM (exit 130) and kills what is left on exit. */
function onSignals(progress: Progress, builds: Builds): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    progress.done();
    process.stderr.write(`\n${sig}: stopping the processes this benchmark started\n`);
    void stopAll(1000).finally(() => {
      builds.dispose();
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killAllNow);
}

/** Where the run writes, what it measured and how it started; see {@link writeResults}. */
interface Outcome {
  readonly opts: BenchOptions;
  readonly systems: readonly SystemSpec[];
  readonly peers: Peers;
  readonly skipped: Skipped[];
  readonly builds: Builds;
  readonly started: Date;
  readonly loadAtStart: number;
  readonly load: { mean: number; max: number };
  readonly measured: Measured;
  readonly sections: Sections;
}

/** Writes the report, the plot and the raw JSON, prints the report; returns the exit code. */
function writeResults(o: Outcome): number {
  const { runs, warmups, tcpRuns, failures, procMemory } = o.measured;
  const { scale, lifecycle, ha } = o.sections;
  const { systems, skipped } = o;
  const summary = summarizeRuns(runs, tcpRuns, systems);
  const meta = runMeta({ ...o, failures });
  const paths = resultPaths(stampOf(o.started));
  const svgName = paths.svg.split('/').pop();
  const procs = { runs, memory: procMemory };
  const markdown = renderReport({ meta, shapes: SHAPES, systems, summary, scale, lifecycle, ha, svgName, procs });
  writeFileSync(paths.svg, renderLatencySvg({ meta, shapes: SHAPES, systems, summary }));
  writeFileSync(paths.md, `${markdown}\n`);
  const raw = { meta, shapes: SHAPES, systems, summary, scale, lifecycle, ha, tcpRuns, runs, warmups, procMemory };
  writeFileSync(paths.json, `${JSON.stringify(raw, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
  process.stderr.write(`wrote ${paths.md}, ${paths.json} and ${paths.svg} (${meta.wallTimeSec.toFixed(0)} s)\n`);
  if (skipped.length > 0)
    process.stderr.write(`skipped: ${skipped.map((s) => `${s.system} (${s.reason})`).join('; ')}; install with ${SETUP_HINT}\n`);
  return failures.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Every process the bench starts (exit server, edge clients, upstream, autocannon) runs on the
  // node running this script: say which, first and in the report. Another node, e.g. the pinned
  // Node 24: `npx nx run bench:build && $(scripts/node/fetch-node.sh) tools/bench/dist/main.js`.
  process.stderr.write(`bench: measuring on Node ${process.version} (${process.execPath})\n`);
  // Peers: --quick runs what it has and names what it skipped; the full run needs them all.
  const chosen = choosePeers(opts);
  if (typeof chosen === 'number') return chosen;
  const { peers, skipped } = chosen;
  const systems = SYSTEMS.filter((s) => !skipped.some((k) => k.system === s.name));
  const progress = createProgress();
  progress.setTotal(plannedSteps(opts, systems, peers));
  progress.phase('snapshotting the built apps and the bench helpers');
  const builds = await snapshotBuilds();
  const uploadFile = `${builds.dir}/upload.bin`;
  writeFileSync(uploadFile, Buffer.alloc((SHAPES.find((s) => s.upload) as (typeof SHAPES)[number]).bodyBytes, 'tunnel-bench-upload '));
  onSignals(progress, builds);
  const started = new Date();
  const loadAtStart = os.loadavg()[0];
  const loadSampler = sampleLoad();
  const ctx: RunContext = { token: newToken(), bins: builds.bins, peers };
  let measured: Measured;
  let sections: Sections;
  try {
    measured = await measure(opts, ctx, systems, progress, uploadFile);
    sections = await runSections(opts, ctx, measured, progress);
  } finally {
    progress.done();
    await stopAll();
    builds.dispose();
  }
  const load = loadSampler.stop();
  return writeResults({ opts, systems, peers, skipped, builds, started, loadAtStart, load, measured, sections });
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`\nbench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
