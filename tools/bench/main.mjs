#!/usr/bin/env node
// npm run bench [-- --quick]: on loopback, a minimal upstream measured DIRECT, through nginx (one
// proxy hop), through OpenSSH `ssh -R`, and through our tunnel with 1 and 2 edge clients:
// small GETs, 1 MiB downloads, 10 MB uploads, a raw TCP stream; then idle-client scale, time to
// first request and resume after an exit-server restart.
// Prints a markdown report and writes bench/results/<YYYY-MM-DD>-<HHMM>.{md,json,svg}.
// Exit code 1 if a system fails to start, a process dies, or a run has more than 1% errors.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { snapshotBuilds } from './builds.mjs';
import { killAllNow, startChild, stopAll, stopChild } from './children.mjs';
import { busyShare, clockTicksPerSecond, delta, hostTicks, reapedChildTicks, snapshot, usPerRequest } from './cpu.mjs';
import { runHa } from './ha.mjs';
import { haproxyMissing } from './haproxy.mjs';
import { runLifecycle } from './lifecycle.mjs';
import { runLoad } from './load.mjs';
import { detectPeers, peerVersions, SETUP_HINT } from './peers.mjs';
import { createProgress } from './progress.mjs';
import { renderReport } from './report.mjs';
import { runScale } from './scale.mjs';
import { SHAPES, TCP_STREAM_BYTES, TCP_STREAM_BYTES_QUICK } from './shapes.mjs';
import { summarize } from './stats.mjs';
import { renderLatencySvg } from './svg.mjs';
import { newToken, startSystem, SYSTEMS } from './systems.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = `${REPO}bench/results`;
const TCP_SOURCE = fileURLToPath(new URL('./tcp-source.mjs', import.meta.url));
const MAX_ERROR_RATE = 0.01;
/** Hard limit on one TCP stream transfer, ms. */
const TCP_LIMIT_MS = 180_000;

const USAGE = `Usage: npm run bench [-- options]

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

function parseOptions(argv) {
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
  const int = (name, raw, fallback, min) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
    return n;
  };
  const quick = values.quick;
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
    help: values.help,
    mode: quick ? 'quick' : 'full',
    rounds: int('rounds', values.rounds, quick ? 1 : 3, 1),
    durationSec: int('duration', values.duration, quick ? 2 : 10, 1),
    warmupSec: int('warmup', values.warmup, quick ? 0 : 3, 0),
    scale,
    tcpBytes: int('tcp-mib', values['tcp-mib'], (quick ? TCP_STREAM_BYTES_QUICK : TCP_STREAM_BYTES) / 1024 ** 2, 0) * 1024 ** 2,
  };
}

/** Warm-up seconds per shape: the per-system warm-up split across shapes, at least 1 s each. */
const warmupPerShape = (warmupSec) => (warmupSec > 0 ? Math.max(1, Math.round(warmupSec / SHAPES.length)) : 0);

/** Planned progress steps. */
function plannedSteps(opts, systems, peers) {
  const warm = warmupPerShape(opts.warmupSec) > 0 ? SHAPES.length : 0;
  const perRound = systems.reduce((sum, s) => sum + warm + SHAPES.length + (s.tcp && opts.tcpBytes > 0 ? 1 : 0), 0);
  const lifecycle = opts.rounds * (2 + (peers.ssh.sshd ? 1 : 0));
  return opts.rounds * perRound + opts.scale.length + lifecycle + (peers.haproxy.missing ? 0 : 3);
}

/** Sends exactly `bytes` through `port` with tcp-source.mjs; resolves `{ ms, mbPerSec }`. */
async function runTcpStream(port, bytes) {
  const proc = startChild('tcp-source', process.execPath, [TCP_SOURCE, `${port}`, `${bytes}`, `${TCP_LIMIT_MS}`]);
  const outcome = await Promise.race([proc.exited, new Promise((r) => setTimeout(() => r('timeout'), TCP_LIMIT_MS + 5000))]);
  if (outcome === 'timeout') {
    await stopChild(proc, 1000);
    throw new Error(`TCP stream did not finish within ${TCP_LIMIT_MS} ms`);
  }
  const line = proc.stdout().trim().split('\n').pop() ?? '';
  if (outcome.code !== 0 || !line.startsWith('{'))
    throw new Error(`tcp-source failed (${outcome.signal ?? `code ${outcome.code}`}) ${line} ${proc.stderrTail()}`);
  const { ms, acked } = JSON.parse(line);
  return { ms, bytes: acked, mbPerSec: acked / 1e6 / (ms / 1000) };
}

async function measure(opts, ctx, systems, progress, uploadFile) {
  const runs = [];
  const warmups = [];
  const tcpRuns = [];
  const failures = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? systems : [...systems].reverse();
    for (const spec of order) {
      const tag = `[round ${round}/${opts.rounds}] ${spec.name}`;
      progress.phase(`${tag} starting`);
      const system = await startSystem(spec, ctx);
      try {
        const load = (shape, durationSec) =>
          runLoad({
            url: system.url + shape.path,
            connections: shape.connections,
            durationSec,
            method: shape.method,
            ...(shape.upload ? { bodyFile: uploadFile, expectBody: `bytes=${shape.bodyBytes}`, uploadBytes: shape.bodyBytes } : {}),
          });
        const warm = warmupPerShape(opts.warmupSec);
        for (const shape of warm > 0 ? SHAPES : []) {
          progress.phase(`${tag} warm-up ${shape.name}`, warm);
          const { figures } = await load(shape, warm);
          warmups.push({ round, system: spec.name, shape: shape.name, figures });
          progress.step();
        }
        for (const shape of SHAPES) {
          progress.phase(`${tag} ${shape.name}`, opts.durationSec);
          const tunnelBefore = snapshot(system.tunnelProcs);
          const upstreamBefore = snapshot([system.upstreamProc]);
          const loadGenBefore = reapedChildTicks();
          const hostBefore = hostTicks();
          const { figures, raw } = await load(shape, opts.durationSec);
          const hostBusy = busyShare(hostBefore, hostTicks());
          const loadGenAfter = reapedChildTicks();
          const tunnelTicks = delta(tunnelBefore, snapshot(system.tunnelProcs));
          const upstreamTicks = delta(upstreamBefore, snapshot([system.upstreamProc]));
          const loadGenTicks = loadGenBefore === undefined || loadGenAfter === undefined ? undefined : loadGenAfter - loadGenBefore;
          const dead = system.deadProcs();
          if (dead.length > 0) throw new Error(`${spec.name}: ${dead.join(', ')} exited during the ${shape.name} run`);
          const cpu = {
            clkTck: clockTicksPerSecond(),
            tunnelTicks,
            upstreamTicks,
            tunnelUsPerReq: system.tunnelProcs.length > 0 ? usPerRequest(tunnelTicks, figures.requests) : null,
            upstreamUsPerReq: usPerRequest(upstreamTicks, figures.requests),
            loadGenTicks,
            loadGenUsPerReq: usPerRequest({ autocannon: loadGenTicks }, figures.requests),
            hostBusy,
          };
          runs.push({
            round,
            system: spec.name,
            shape: shape.name,
            url: system.url + shape.path,
            ports: system.ports,
            figures,
            cpu,
            autocannon: raw,
          });
          if (figures.errorRate > MAX_ERROR_RATE) {
            const msg =
              `round ${round} ${spec.name} ${shape.name}: ${(figures.errorRate * 100).toFixed(2)}% failed requests ` +
              `(errors ${figures.errors}, timeouts ${figures.timeouts}, non-2xx ${figures.non2xx}, body mismatches ${raw.mismatches ?? 0})`;
            failures.push(msg);
            progress.log(`FAIL ${msg}`);
          }
          progress.step();
        }
        if (spec.tcp && opts.tcpBytes > 0) {
          progress.phase(`${tag} tcp stream ${opts.tcpBytes / 1024 ** 2} MiB`);
          const before = snapshot(system.tunnelProcs);
          try {
            const r = await runTcpStream(system.tcpPort, opts.tcpBytes);
            const ticks = delta(before, snapshot(system.tunnelProcs));
            const us = system.tunnelProcs.length > 0 ? usPerRequest(ticks, r.bytes / 1e6) : null; // µs per MB
            tcpRuns.push({ round, system: spec.name, ...r, tunnelTicks: ticks, cpuUsPerMB: us });
          } catch (err) {
            const msg = `round ${round} ${spec.name} tcp stream: ${err.message.split('\n')[0]}`;
            failures.push(msg);
            progress.log(`FAIL ${msg}`);
          }
          progress.step();
        }
      } finally {
        progress.phase(`${tag} stopping`);
        await system.stop();
      }
    }
  }
  return { runs, warmups, tcpRuns, failures };
}

const METRICS = ['reqPerSec', 'p50Ms', 'p99Ms', 'mbPerSec'];

function summarizeRuns(runs, tcpRuns, systems) {
  const summary = {};
  const sameRound = (rs, name, round) => rs.find((d) => d.system === name && d.round === round);
  for (const shape of SHAPES) {
    summary[shape.name] = {};
    for (const spec of systems) {
      const rs = runs.filter((r) => r.shape === shape.name && r.system === spec.name);
      const peersOf = (name) => runs.filter((r) => r.shape === shape.name && r.system === name);
      const s = {};
      for (const key of METRICS) {
        const ratio = (name) =>
          summarize(
            rs.map((r) => {
              const other = sameRound(peersOf(name), name, r.round);
              return other && other.figures[key] > 0 ? r.figures[key] / other.figures[key] : null;
            }),
          );
        s[key] = { ...summarize(rs.map((r) => r.figures[key])), vsDirect: ratio('direct'), vsSsh: ratio('ssh -R') };
      }
      s.perRound = rs.map((r) => ({ round: r.round, ...Object.fromEntries(METRICS.map((k) => [k, r.figures[k]])) }));
      s.tunnelCpuUsPerReq = summarize(rs.map((r) => r.cpu.tunnelUsPerReq));
      s.upstreamCpuUsPerReq = summarize(rs.map((r) => r.cpu.upstreamUsPerReq));
      s.loadGenCpuUsPerReq = summarize(rs.map((r) => r.cpu.loadGenUsPerReq));
      s.hostBusy = summarize(rs.map((r) => r.cpu.hostBusy));
      s.maxErrorRate = rs.length > 0 ? Math.max(...rs.map((r) => r.figures.errorRate)) : null;
      s.latency = medianLatencyCurve(rs);
      summary[shape.name][spec.name] = s;
    }
  }
  const tcp = {};
  for (const spec of systems.filter((s) => s.tcp)) {
    const rs = tcpRuns.filter((r) => r.system === spec.name);
    const ratio = (name) =>
      summarize(
        rs.map((r) => {
          const o = tcpRuns.find((d) => d.system === name && d.round === r.round);
          return o ? r.mbPerSec / o.mbPerSec : null;
        }),
      );
    tcp[spec.name] = {
      mbPerSec: { ...summarize(rs.map((r) => r.mbPerSec)), vsDirect: ratio('direct'), vsSsh: ratio('ssh -R') },
      seconds: summarize(rs.map((r) => r.ms / 1000)),
      cpuUsPerMB: summarize(rs.map((r) => r.cpuUsPerMB)),
    };
  }
  return { shapes: summary, tcp };
}

/** Per percentile, the median latency over rounds: `[[percentile, ms], ...]`. */
function medianLatencyCurve(rs) {
  if (rs.length === 0) return [];
  const ps = rs[0].figures.latency.map(([p]) => p);
  return ps.map((p) => [p, summarize(rs.map((r) => r.figures.latency.find(([q]) => q === p)?.[1])).median]);
}

function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

const pad = (n) => String(n).padStart(2, '0');
const stampOf = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`;

/** bench/results/<stamp>.{md,json,svg}, with -2, -3... when that minute is taken already. */
function resultPaths(stamp) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  for (let i = 1; ; i++) {
    const base = `${RESULTS_DIR}/${stamp}${i === 1 ? '' : `-${i}`}`;
    if (!['md', 'json', 'svg'].some((ext) => existsSync(`${base}.${ext}`)))
      return { md: `${base}.md`, json: `${base}.json`, svg: `${base}.svg` };
  }
}

/** Samples the 1-minute load average every 5 s; `stop()` returns `{ mean, max, samples }`. */
function sampleLoad() {
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

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  // Every process the bench starts (exit server, edge clients, upstream, autocannon) runs on the
  // node running this script: say which, first and in the report. Another node, e.g. the pinned
  // Node 24: `$(scripts/node/fetch-node.sh) tools/bench/main.mjs`.
  process.stderr.write(`bench: measuring on Node ${process.version} (${process.execPath})\n`);

  // Peers: --quick runs what it has and names what it skipped; the full run needs them all.
  const peers = { ...detectPeers(), haproxy: { missing: haproxyMissing() } };
  const skipped = SYSTEMS.filter((s) => s.peer && peers[s.peer].missing).map((s) => ({ system: s.name, reason: peers[s.peer].missing }));
  // The scale-out section needs HAProxy as its load balancer.
  if (peers.haproxy.missing) skipped.push({ system: 'scale-out (HAProxy)', reason: peers.haproxy.missing });
  if (skipped.length > 0) {
    const list = skipped.map((s) => `  - ${s.system}: ${s.reason}`).join('\n');
    if (opts.mode === 'full') {
      process.stderr.write(
        `bench: the full benchmark compares against nginx and ssh -R, but:\n${list}\nInstall them with: ${SETUP_HINT}\n`,
      );
      return 1;
    }
    process.stderr.write(`bench --quick: SKIPPING systems whose tools are missing (install: ${SETUP_HINT}):\n${list}\n`);
  }
  const systems = SYSTEMS.filter((s) => !skipped.some((k) => k.system === s.name));

  const progress = createProgress();
  progress.setTotal(plannedSteps(opts, systems, peers));
  progress.phase('snapshotting the built apps and bundling the idle clients');
  const builds = await snapshotBuilds();
  const uploadFile = `${builds.dir}/upload.bin`;
  const uploadShape = SHAPES.find((s) => s.upload);
  writeFileSync(uploadFile, Buffer.alloc(uploadShape.bodyBytes, 'tunnel-bench-upload '));
  const onSignal = (sig) => {
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

  const started = new Date();
  const loadAtStart = os.loadavg()[0];
  const loadSampler = sampleLoad();
  const token = newToken();
  const ctx = { token, bins: builds.bins, peers };
  let measured;
  const scale = [];
  let lifecycle;
  let ha;
  try {
    measured = await measure(opts, ctx, systems, progress, uploadFile);
    for (const n of opts.scale) {
      progress.phase(`[scale] ${n.toLocaleString('en-US')} idle edge-client sessions on one exit server`);
      const r = await runScale({ n, bins: builds.bins, token, progress });
      scale.push(r);
      if (!r.ok) {
        const msg = `scale ${n}: ${r.error}`;
        measured.failures.push(msg);
        progress.log(`FAIL ${msg}`);
      }
      progress.step();
    }
    lifecycle = await runLifecycle({ rounds: opts.rounds, bins: builds.bins, token, peers, progress });
    for (const e of lifecycle.errors) {
      measured.failures.push(`lifecycle: ${e}`);
      progress.log(`FAIL lifecycle: ${e}`);
    }
    if (!peers.haproxy.missing) {
      ha = await runHa({ bins: builds.bins, token, durationSec: opts.durationSec, progress });
      for (const e of ha.errors) {
        measured.failures.push(`scale-out: ${e}`);
        progress.log(`FAIL scale-out: ${e}`);
      }
    }
  } finally {
    progress.done();
    await stopAll();
    builds.dispose();
  }
  const load = loadSampler.stop();
  const { runs, warmups, tcpRuns, failures } = measured;
  const summary = summarizeRuns(runs, tcpRuns, systems);
  const acPkg = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('autocannon/package.json'), 'utf8'));
  const cpus = os.cpus();
  const meta = {
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
  const paths = resultPaths(stampOf(started));
  const svgName = paths.svg.split('/').pop();
  const markdown = renderReport({ meta, shapes: SHAPES, systems, summary, scale, lifecycle, ha, svgName });
  writeFileSync(paths.svg, renderLatencySvg({ meta, shapes: SHAPES, systems, summary }));
  writeFileSync(paths.md, `${markdown}\n`);
  writeFileSync(
    paths.json,
    `${JSON.stringify({ meta, shapes: SHAPES, systems, summary, scale, lifecycle, ha, tcpRuns, runs, warmups }, null, 2)}\n`,
  );
  process.stdout.write(`${markdown}\n`);
  process.stderr.write(`wrote ${paths.md}, ${paths.json} and ${paths.svg} (${meta.wallTimeSec.toFixed(0)} s)\n`);
  if (skipped.length > 0)
    process.stderr.write(`skipped: ${skipped.map((s) => `${s.system} (${s.reason})`).join('; ')}; install with ${SETUP_HINT}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`\nbench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
