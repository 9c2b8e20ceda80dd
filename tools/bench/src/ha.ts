// Scale-out through a load balancer (HAProxy, see haproxy.ts): 1 and 3 exit servers that know
// each other (--peer), 2 edge clients dialing only the load balancer. Measures
//   small GETs through the LB  req/s and p99 with 1 and with 3 exit servers (autocannon)
//   attach all                 clients started -> every server lists both clients (3 servers)
//   new server attached        a replacement server spawned -> both clients attached to it
//   rolling restart            SIGTERM each of the 3 servers in turn, start its replacement, under
//                              continuous load (fresh connection per request): failed requests;
//                              then again under autocannon's kept-alive connections
import { request } from 'node:http';
import { freePorts } from '@tunnel/testing';
import type { Bins } from './builds.ts';
import { startChild, stopChild, type ChildHandle } from './children.ts';
import { startHaproxy, type Backend, type Haproxy } from './haproxy.ts';
import { runLoad, type Figures } from './load.ts';
import type { Progress } from './progress.ts';
import { serverEnv, startEdgeClient, startUpstream, status, statusClients, TUNNEL_NODE_FLAGS } from './tunnel-procs.ts';
import { until, type Watched } from './wait.ts';

const LIMIT_MS = 30_000;
/** Duration of the kept-alive load, s: long enough for three restarts on a loaded 2-core host. */
const KEPT_ALIVE_WINDOW_S = 25;
const CLIENTS = ['ha-1', 'ha-2'];
const sinceMs = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

/** The scale-out section's result. */
export interface HaResult {
  /** Small-GET figures through the LB by number of exit servers (1 and 3). */
  throughput: Record<number, Figures>;
  /** 2 clients started -> both listed by all 3 servers, ms. */
  attachAllMs: number | undefined;
  /** Per restart: replacement spawned -> both clients attached to it, ms. */
  newServerAttachMs: number[];
  /** The rolling restart under fresh-connection load: requests and failure reasons. */
  rolling: { requests: number; failures: string[] } | undefined;
  /** The rolling restart under kept-alive load: requests and failed ones. */
  rollingKeptAlive: { requests: number; failed: number } | undefined;
  /** What went wrong. */
  errors: string[];
}

/** What starting fleets needs. */
interface HaContext {
  readonly bins: Bins;
  readonly token: string;
}

/** A running fleet: exit servers behind HAProxy, and the edge clients. */
interface Fleet {
  readonly backends: Backend[];
  readonly servers: ChildHandle[];
  readonly lb: Haproxy;
  readonly attachAllMs: number;
  procs(): Watched[];
  stop(): Promise<void>;
}

/** Starts exit server `i` of `backends` (generation: a replacement's number, for its instance id). */
export function startServer(ctx: HaContext, backends: readonly Backend[], i: number, generation: number): ChildHandle {
  const b = backends[i];
  const peers = backends.flatMap((p, j) => (j === i ? [] : ['--peer', `127.0.0.1:${p.controlPort}`]));
  const args = [
    ...TUNNEL_NODE_FLAGS,
    ctx.bins['exit-server'],
    ...['--port', `${b.port}`, '--control-port', `${b.controlPort}`, '--bind', '127.0.0.1'],
    ...['--token-env', 'TUNNEL_TOKEN', '--log-level', 'warn', '--instance-id', `ha-${i}-${generation}`],
    ...['--drain-timeout', '5s', '--peer-interval', '250ms', '--peer-timeout', '1s', '--drain-delay', '1500ms', '--ready-timeout', '20s'],
    ...peers,
  ];
  return startChild(`exit-server-${i}`, process.execPath, args, { env: serverEnv(ctx.token) });
}

/** Resolves once `controlPort`'s /status lists every bench client exactly once, serving. */
export async function attached(controlPort: number, token: string, procs: readonly Watched[], deadline: number): Promise<void> {
  const check = async (): Promise<boolean> => {
    const res = await status(controlPort, token);
    if (res.status !== 200) return false;
    const clients = statusClients(res).filter((c) => !c.draining);
    return CLIENTS.every((id) => clients.filter((c) => c.id === id).length === 1);
  };
  await until(deadline, procs, check, `both clients on :${controlPort}`, 10);
}

/** One GET /small on a fresh connection; resolves undefined on 200, else why it failed. */
function get(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/small', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

/** `concurrency` loops of GET on fresh connections until stopped; `stop()` resolves the tally. */
function continuousLoad(port: number, concurrency: number): { count(): number; stop(): Promise<{ requests: number; failures: string[] }> } {
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      requests++;
      const err = await get(port);
      if (err) failures.push(err);
    }
  });
  const stop = async (): Promise<{ requests: number; failures: string[] }> => {
    running = false;
    await Promise.all(loops);
    return { requests, failures };
  };
  return { count: () => requests, stop };
}

/** Starts `n` exit servers, HAProxy in front, and the 2 edge clients; resolves once all are attached. */
export async function fleet(ctx: HaContext, n: number, upstreamUrl: string): Promise<Fleet> {
  const { bins, token } = ctx;
  const ports = await freePorts(2 * n);
  const backends = Array.from({ length: n }, (_, i) => ({ port: ports[2 * i], controlPort: ports[2 * i + 1] }));
  const servers = backends.map((_, i) => startServer(ctx, backends, i, 0));
  const clients: ChildHandle[] = [];
  const deadline = Date.now() + LIMIT_MS;
  const serving = (b: Backend) => async (): Promise<boolean> => (await status(b.controlPort, token)).status === 200;
  await Promise.all(backends.map((b, i) => until(deadline, [servers[i]], serving(b), 'exit server /status')));
  const balancer = await startHaproxy(backends);
  const procs = (): Watched[] => [...servers, balancer.proc, ...clients];
  const t0 = process.hrtime.bigint();
  const extraArgs = ['--reconnect-min', '100ms', '--reconnect-max', '1s'];
  for (const id of CLIENTS) clients.push(startEdgeClient({ bins, token, controlPort: balancer.controlPort, upstreamUrl, id, extraArgs }));
  await Promise.all(backends.map((b) => attached(b.controlPort, token, procs(), Date.now() + LIMIT_MS)));
  const attachAllMs = sinceMs(t0);
  await balancer.allUp(Date.now() + LIMIT_MS);
  const stop = async (): Promise<void> => {
    await Promise.all(clients.map((c) => stopChild(c)));
    await balancer.stop();
    await Promise.all(servers.map((s) => stopChild(s)));
  };
  return { backends, servers, lb: balancer, procs, attachAllMs, stop };
}

/** Replaces server `i` of `f` (SIGTERM, wait for its exit, start generation `generation`, wait until attached and UP). */
async function replace(ctx: HaContext, f: Fleet, i: number, generation: number): Promise<number> {
  f.servers[i].child.kill('SIGTERM');
  await f.servers[i].exited;
  const t0 = process.hrtime.bigint();
  f.servers[i] = startServer(ctx, f.backends, i, generation);
  await attached(f.backends[i].controlPort, ctx.token, f.procs(), Date.now() + LIMIT_MS);
  const attachMs = sinceMs(t0);
  await f.lb.allUp(Date.now() + LIMIT_MS);
  return attachMs;
}

/** Rolling restart under fresh-connection load, then again under autocannon's kept-alive connections. */
async function rollingRestarts(ctx: HaContext, f: Fleet, out: HaResult, progress: Progress): Promise<void> {
  progress.phase('[ha] rolling restart of the 3 exit servers under load (fresh connection per request)');
  const load = continuousLoad(f.lb.publicPort, 8);
  for (let i = 0; i < 3; i++) {
    const before = load.count();
    out.newServerAttachMs.push(await replace(ctx, f, i, 1));
    // Let the load run through the whole fleet again before the next restart.
    await until(Date.now() + LIMIT_MS, f.procs(), () => load.count() > before + 200, 'load progressing', 20);
  }
  out.rolling = await load.stop();
  // Again under kept-alive connections (autocannon): a connection through an L4 balancer is
  // pinned to one server, so this is where a drain that closes connections would show.
  progress.phase('[ha] rolling restart again under kept-alive load (autocannon, 20 connections)');
  const kept = runLoad({ url: `http://127.0.0.1:${f.lb.publicPort}/small`, connections: 20, durationSec: KEPT_ALIVE_WINDOW_S });
  for (let i = 0; i < 3; i++) await replace(ctx, f, i, 2);
  const k = (await kept).figures;
  out.rollingKeptAlive = { requests: k.requests + k.errors, failed: k.errors + k.non2xx };
}

/** Runs the scale-out section. */
export async function runHa({
  bins,
  token,
  durationSec,
  progress,
}: HaContext & { durationSec: number; progress: Progress }): Promise<HaResult> {
  const ctx = { bins, token };
  const out: HaResult = {
    throughput: {},
    attachAllMs: undefined,
    newServerAttachMs: [],
    rolling: undefined,
    rollingKeptAlive: undefined,
    errors: [],
  };
  const upstream = await startUpstream(bins);
  const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
  try {
    for (const n of [1, 3]) {
      progress.phase(`[ha] small GETs through HAProxy, ${n} exit server${n > 1 ? 's' : ''}, 2 edge clients`);
      const f = await fleet(ctx, n, upstreamUrl);
      try {
        if (n === 3) out.attachAllMs = f.attachAllMs;
        const { figures } = await runLoad({ url: `http://127.0.0.1:${f.lb.publicPort}/small`, connections: 100, durationSec });
        out.throughput[n] = figures;
        progress.step();
        if (n !== 3) continue;
        await rollingRestarts(ctx, f, out, progress);
        progress.step();
      } finally {
        await f.stop();
      }
    }
  } catch (err) {
    out.errors.push((err as Error).message);
  } finally {
    await stopChild(upstream.proc);
  }
  return out;
}
