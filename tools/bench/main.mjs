#!/usr/bin/env node
// npm run bench [-- --quick]: DIRECT vs TUNNEL vs TUNNEL-2 on loopback, small and big responses.
// Prints a markdown report and writes bench/results/<YYYY-MM-DD>-<HHMM>.{md,json}.
// Exit code 1 if a system fails to start, a process dies, or a run has more than 1% errors.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { snapshotBuilds } from './builds.mjs';
import { killAllNow, stopAll } from './children.mjs';
import { clockTicksPerSecond, delta, snapshot, usPerRequest } from './cpu.mjs';
import { runLoad } from './load.mjs';
import { createProgress } from './progress.mjs';
import { renderReport } from './report.mjs';
import { SHAPES } from './shapes.mjs';
import { summarize } from './stats.mjs';
import { newToken, startSystem, SYSTEMS } from './systems.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = `${REPO}bench/results`;
const MAX_ERROR_RATE = 0.01;

const USAGE = `Usage: npm run bench [-- options]

  --quick          1 round, 2 s per shape, no warm-up (CI smoke run)
  --rounds N       rounds (default 3; system order alternates each round)
  --duration S     seconds per shape per system (default 10)
  --warmup S       warm-up seconds per system, split across shapes (default 2; 0 = none)
  -h, --help       this text
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name, raw, fallback, min) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
    return n;
  };
  return {
    help: values.help,
    mode: values.quick ? 'quick' : 'full',
    rounds: int('rounds', values.rounds, values.quick ? 1 : 3, 1),
    durationSec: int('duration', values.duration, values.quick ? 2 : 10, 1),
    warmupSec: int('warmup', values.warmup, values.quick ? 0 : 2, 0),
  };
}

/** Warm-up seconds per shape: the per-system warm-up split across shapes, at least 1 s each. */
const warmupPerShape = (warmupSec) => (warmupSec > 0 ? Math.max(1, Math.round(warmupSec / SHAPES.length)) : 0);

async function measure(opts, bins, progress) {
  const token = newToken();
  const runs = [];
  const warmups = [];
  const failures = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? SYSTEMS : [...SYSTEMS].reverse();
    for (const spec of order) {
      const tag = `[round ${round}/${opts.rounds}] ${spec.name}`;
      progress.phase(`${tag} starting`);
      const system = await startSystem(spec, { token, bins });
      try {
        const warm = warmupPerShape(opts.warmupSec);
        for (const shape of warm > 0 ? SHAPES : []) {
          progress.phase(`${tag} warm-up ${shape.name}`, warm);
          const { figures } = await runLoad({ url: system.url + shape.path, connections: shape.connections, durationSec: warm });
          warmups.push({ round, system: spec.name, shape: shape.name, figures });
        }
        for (const shape of SHAPES) {
          progress.phase(`${tag} ${shape.name}`, opts.durationSec);
          const tunnelBefore = snapshot(system.tunnelProcs);
          const upstreamBefore = snapshot([system.upstreamProc]);
          const { figures, raw } = await runLoad({
            url: system.url + shape.path,
            connections: shape.connections,
            durationSec: opts.durationSec,
          });
          const tunnelTicks = delta(tunnelBefore, snapshot(system.tunnelProcs));
          const upstreamTicks = delta(upstreamBefore, snapshot([system.upstreamProc]));
          const dead = system.deadProcs();
          if (dead.length > 0) throw new Error(`${spec.name}: ${dead.join(', ')} exited during the ${shape.name} run`);
          const cpu = {
            clkTck: clockTicksPerSecond(),
            tunnelTicks,
            upstreamTicks,
            tunnelUsPerReq: spec.edgeClients > 0 ? usPerRequest(tunnelTicks, figures.requests) : null,
            upstreamUsPerReq: usPerRequest(upstreamTicks, figures.requests),
          };
          runs.push({ round, system: spec.name, shape: shape.name, url: system.url + shape.path, ports: system.ports, figures, cpu, autocannon: raw });
          if (figures.errorRate > MAX_ERROR_RATE) {
            const msg =
              `round ${round} ${spec.name} ${shape.name}: ${(figures.errorRate * 100).toFixed(2)}% failed requests ` +
              `(errors ${figures.errors}, timeouts ${figures.timeouts}, non-2xx ${figures.non2xx})`;
            failures.push(msg);
            progress.log(`FAIL ${msg}`);
          }
        }
      } finally {
        progress.phase(`${tag} stopping`);
        await system.stop();
      }
    }
  }
  return { runs, warmups, failures };
}

function summarizeRuns(runs) {
  const summary = {};
  for (const shape of SHAPES) {
    summary[shape.name] = {};
    for (const spec of SYSTEMS) {
      const rs = runs.filter((r) => r.shape === shape.name && r.system === spec.name);
      const of = (key) => summarize(rs.map((r) => r.figures[key]));
      const ratios = rs.map((r) => {
        const direct = runs.find((d) => d.shape === shape.name && d.system === 'direct' && d.round === r.round);
        return direct ? r.figures[shape.headline] / direct.figures[shape.headline] : null;
      });
      summary[shape.name][spec.name] = {
        reqPerSec: of('reqPerSec'),
        p50Ms: of('p50Ms'),
        p99Ms: of('p99Ms'),
        mbPerSec: of('mbPerSec'),
        ratio: summarize(ratios),
        ratioOf: shape.headline,
        perRoundRatios: ratios,
        tunnelCpuUsPerReq: summarize(rs.map((r) => r.cpu.tunnelUsPerReq)),
        upstreamCpuUsPerReq: summarize(rs.map((r) => r.cpu.upstreamUsPerReq)),
        maxErrorRate: rs.length > 0 ? Math.max(...rs.map((r) => r.figures.errorRate)) : null,
      };
    }
  }
  return summary;
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

/** bench/results/<stamp>.{md,json}, with -2, -3... when that minute is taken already. */
function resultPaths(stamp) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  for (let i = 1; ; i++) {
    const base = `${RESULTS_DIR}/${stamp}${i === 1 ? '' : `-${i}`}`;
    if (!existsSync(`${base}.md`) && !existsSync(`${base}.json`)) return { md: `${base}.md`, json: `${base}.json` };
  }
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
  const progress = createProgress();
  progress.phase('snapshotting the built apps');
  const builds = await snapshotBuilds();
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
  let measured;
  try {
    measured = await measure(opts, builds.bins, progress);
  } finally {
    progress.done();
    await stopAll();
    builds.dispose();
  }
  const { runs, warmups, failures } = measured;
  const summary = summarizeRuns(runs);
  const acPkg = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('autocannon/package.json'), 'utf8'));
  const cpus = os.cpus();
  const meta = {
    startedAt: `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    mode: opts.mode,
    rounds: opts.rounds,
    durationSec: opts.durationSec,
    warmupSec: opts.warmupSec,
    wallTimeSec: (Date.now() - started.getTime()) / 1000,
    loadAvg: { start: loadAtStart, end: os.loadavg()[0] },
    commit: commit(),
    bundleSha256: builds.sha256,
    autocannonVersion: acPkg.version,
    host: { cpuModel: cpus[0]?.model?.trim() ?? 'unknown CPU', cpus: cpus.length, platform: `${os.platform()} ${os.release()}`, node: process.version },
    failures,
  };
  const markdown = renderReport({ meta, shapes: SHAPES, systems: SYSTEMS, summary });
  const paths = resultPaths(stampOf(started));
  writeFileSync(paths.md, `${markdown}\n`);
  writeFileSync(paths.json, `${JSON.stringify({ meta, shapes: SHAPES, systems: SYSTEMS, summary, runs, warmups }, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
  process.stderr.write(`wrote ${paths.md} and ${paths.json} (${meta.wallTimeSec.toFixed(0)} s)\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`\nbench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
