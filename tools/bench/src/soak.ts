// npm run soak [-- --duration 10m]: a memory soak of the tunnel (not in CI). On loopback, one exit
// server and two steady edge clients serve mixed load (small GETs, 1 MiB downloads, 1 MiB
// uploads, kept-alive and fresh connections, connections opened and left idle) while other edge
// clients come and go (SIGTERM and SIGKILL). The exit server's and the steady clients' RSS is
// sampled; the run fails (exit 1) if memory keeps growing: over the second half of the run (the
// first is warm-up: pools and heaps fill), the least-squares trend of RSS must not add more than
// 5% and 4 MB. Also fails on more than 1% request errors or a process dying.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { freePorts, newToken } from '@tunnel/testing';
import { snapshotBuilds, type Builds } from './builds.ts';
import { killAllNow, stopAll, stopChild, type ChildHandle } from './children.ts';
import { rssBytes } from './cpu.ts';
import { startEdgeClient, startExitServer, startUpstream, status, statusClients } from './tunnel-procs.ts';
import { until } from './wait.ts';

const USAGE = `Usage: npm run soak [-- options]

  --duration D   how long to run: 10m (default), 90s, 1h ...
  --workers N    concurrent request loops (default 8)
  --churn D      a coming-and-going edge client every D (default 5s)
  -h, --help     this text

Fails (exit 1) when RSS keeps growing, more than 1% of requests fail, or a process dies.
`;

const MB = 1024 * 1024;
const SAMPLE_MS = 1000;
const MAX_ERROR_RATE = 0.01;
/** Growth over the judged half that counts as "keeps growing": both relative and absolute, so GC noise passes. */
const GROWTH = { ratio: 0.05, bytes: 4 * MB };

/** One RSS sample, bytes, at `t` ms since the start. */
interface Sample {
  readonly t: number;
  readonly server: number | undefined;
  readonly clients: (number | undefined)[];
}

/** Request tallies. */
interface Stats {
  ok: number;
  failed: number;
  churned: number;
  idleOpened: number;
}

/** The running soak: its processes and where the load goes. */
interface Soak {
  readonly builds: Builds;
  readonly token: string;
  readonly server: ChildHandle;
  readonly steady: ChildHandle[];
  readonly port: number;
  readonly controlPort: number;
  readonly upstreamUrl: string;
}

/** A verdict on one process's memory. */
interface Verdict {
  readonly ok: boolean;
  readonly text: string;
}

function duration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
  if (!m) throw new Error(`expected a duration such as 90s or 10m, got "${raw}"`);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Math.round(Number(m[1]) * unit[m[2] ?? 's']);
}

/** Least-squares slope of `ys` over `ts`, per ms. */
function slope(ts: readonly number[], ys: readonly number[]): number {
  const n = ts.length;
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (ts[i] - mt) * (ys[i] - my);
    den += (ts[i] - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** One request of the mix; resolves true on the expected status. */
function one(base: string, agent: Agent | false): Promise<boolean> {
  const r = Math.random();
  const kind = r < 0.7 ? 'small' : r < 0.9 ? 'big' : 'upload';
  return new Promise((resolve) => {
    const req = request(`${base}/${kind === 'upload' ? 'upload' : kind}`, { method: kind === 'upload' ? 'POST' : 'GET', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(kind === 'upload' ? Buffer.alloc(MB, 0x61) : undefined);
  });
}

/** Judges the second half of `samples` for one process; undefined values are left out. */
function judge(name: string, samples: readonly Sample[], pick: (s: Sample) => number | undefined): Verdict {
  const half = samples.slice(Math.floor(samples.length / 2)).filter((s) => pick(s) !== undefined);
  if (half.length < 10) return { ok: false, text: `${name}: too few samples to judge (run longer)` };
  const ts = half.map((s) => s.t);
  const ys = half.map((s) => pick(s) as number);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const perMs = slope(ts, ys);
  const added = perMs * (ts[ts.length - 1] - ts[0]);
  const growing = added > Math.max(mean * GROWTH.ratio, GROWTH.bytes);
  return {
    ok: !growing,
    text: `${name}: RSS ${(mean / MB).toFixed(1)} MB on average over the second half, trend ${((perMs * 60_000) / MB).toFixed(2)} MB/min (${(added / MB).toFixed(1)} MB over it)${growing ? ': KEEPS GROWING' : ''}`,
  };
}

/** Starts the upstream, the exit server and the two steady clients. */
async function startSoak(): Promise<Soak> {
  const token = newToken();
  const builds = await snapshotBuilds();
  const upstream = await startUpstream(builds.bins);
  const [port, controlPort] = await freePorts(2);
  const server = await startExitServer({ bins: builds.bins, token, port, controlPort });
  const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
  const steady = [0, 1].map((i) => startEdgeClient({ bins: builds.bins, token, controlPort, upstreamUrl, id: `steady-${i}` }));
  const both = async (): Promise<boolean> => statusClients(await status(controlPort, token)).length >= 2;
  await until(Date.now() + 15_000, [server, ...steady], both, 'steady clients');
  return { builds, token, server, steady, port, controlPort, upstreamUrl };
}

/** Clients coming and going every `churnMs`, each living twice that; `stop()` stops the timer and those still alive. */
function churn(s: Soak, churnMs: number, stats: Stats): { stop(): Promise<void> } {
  const churning = new Set<ChildHandle>();
  const churner = setInterval(() => {
    const c = startEdgeClient({
      bins: s.builds.bins,
      token: s.token,
      controlPort: s.controlPort,
      upstreamUrl: s.upstreamUrl,
      id: `churn-${stats.churned++}`,
    });
    churning.add(c);
    setTimeout(() => {
      churning.delete(c);
      if (stats.churned % 2 === 0) void stopChild(c);
      else process.kill(c.pid as number, 'SIGKILL');
    }, churnMs * 2);
  }, churnMs);
  return {
    async stop() {
      clearInterval(churner);
      await Promise.all([...churning].map((c) => stopChild(c)));
    },
  };
}

/** Runs the load for `runMs`; resolves the samples, or rejects when a process died. */
async function soak(s: Soak, runMs: number, workers: number, churnMs: number, stats: Stats): Promise<Sample[]> {
  const samples: Sample[] = [];
  const started = Date.now();
  let fatal: Error | undefined;
  const over = (): boolean => fatal !== undefined || Date.now() - started >= runMs;
  const base = `http://127.0.0.1:${s.port}`;
  // Mixed request loops: half on kept-alive agents, half on a fresh connection each time.
  const loops = Array.from({ length: workers }, async (_, w) => {
    const agent = w % 2 === 0 ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    while (!over()) {
      if (await one(base, agent)) stats.ok++;
      else stats.failed++;
    }
    if (agent) agent.destroy();
  });
  // Connections opened and left idle (the server's timeouts must reclaim them).
  const idler = setInterval(() => {
    const sock = connect(s.port, '127.0.0.1');
    sock.on('error', () => {});
    stats.idleOpened++;
    setTimeout(() => sock.destroy(), 20_000);
  }, 500);
  const churner = churn(s, churnMs, stats);
  const sampler = setInterval(() => {
    const dead = [s.server, ...s.steady].find((p) => p.hasExited());
    if (dead) fatal ??= new Error(`${dead.name} died ${dead.stderrTail()}`);
    const last: Sample = { t: Date.now() - started, server: rssBytes(s.server.pid), clients: s.steady.map((c) => rssBytes(c.pid)) };
    samples.push(last);
    if (samples.length % 30 === 0) {
      const clients = last.clients.map((b) => ((b ?? NaN) / MB).toFixed(1)).join(' / ');
      process.stdout.write(
        `  ${Math.round(last.t / 1000)} s: server ${((last.server ?? NaN) / MB).toFixed(1)} MB, clients ${clients} MB, ${stats.ok} ok, ${stats.failed} failed\n`,
      );
    }
  }, SAMPLE_MS);
  await Promise.all(loops);
  clearInterval(idler);
  clearInterval(sampler);
  await churner.stop();
  if (fatal) throw fatal;
  return samples;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10m' },
      workers: { type: 'string', default: '8' },
      churn: { type: 'string', default: '5s' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const runMs = duration(values.duration);
  const churnMs = duration(values.churn);
  const workers = Number(values.workers);
  const s = await startSoak();
  process.stdout.write(`soak: ${runMs / 1000} s, ${workers} workers, a client coming and going every ${churnMs / 1000} s\n`);
  const stats: Stats = { ok: 0, failed: 0, churned: 0, idleOpened: 0 };
  const samples = await soak(s, runMs, workers, churnMs, stats);
  const verdicts = [
    judge('exit server', samples, (x) => x.server),
    ...s.steady.map((_, i) => judge(`edge client ${i}`, samples, (x) => x.clients[i])),
  ];
  const total = stats.ok + stats.failed;
  const errorRate = total === 0 ? 1 : stats.failed / total;
  process.stdout.write(
    `\n${total} requests (${(errorRate * 100).toFixed(2)}% failed), ${stats.churned} clients came and went, ${stats.idleOpened} idle connections opened\n`,
  );
  for (const v of verdicts) process.stdout.write(`${v.text}\n`);
  await stopAll();
  s.builds.dispose();
  const ok = verdicts.every((v) => v.ok) && errorRate <= MAX_ERROR_RATE;
  process.stdout.write(ok ? 'soak: PASS\n' : 'soak: FAIL\n');
  return ok ? 0 : 1;
}

process.on('exit', killAllNow);
process.on('SIGINT', () => process.exit(130));
main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`soak: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
