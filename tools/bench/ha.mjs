// Scale-out through a load balancer (HAProxy, see haproxy.mjs): 1 and 3 exit servers that know
// each other (--peer), 2 edge clients dialing only the load balancer. Measures
//   small GETs through the LB  req/s and p99 with 1 and with 3 exit servers (autocannon)
//   attach all                 clients started -> every server lists both clients (3 servers)
//   new server attached        a replacement server spawned -> both clients attached to it
//   rolling restart            SIGTERM each of the 3 servers in turn, start its replacement, under
//                              continuous load (fresh connection per request): failed requests;
//                              then again under autocannon's kept-alive connections
import { request } from 'node:http';
import { stopChild, startChild } from './children.mjs';
import { startHaproxy } from './haproxy.mjs';
import { runLoad } from './load.mjs';
import { freePorts } from './ports.mjs';
import { childEnv, benchAdminToken, startEdgeClient, startUpstream, status, TUNNEL_NODE_FLAGS, until } from './systems.mjs';

const LIMIT_MS = 30_000;
/** Duration of the kept-alive load: long enough for three restarts on a loaded 2-core host. */
const KEPT_ALIVE_WINDOW_S = 25;
const CLIENTS = ['ha-1', 'ha-2'];
const sinceMs = (t) => Number(process.hrtime.bigint() - t) / 1e6;

export function startServer({ bins, token, backends, i, generation }) {
  const b = backends[i];
  const peers = backends.flatMap((p, j) => (j === i ? [] : ['--peer', `127.0.0.1:${p.controlPort}`]));
  const args = [
    ...TUNNEL_NODE_FLAGS,
    bins['exit-server'],
    '--port',
    `${b.port}`,
    '--control-port',
    `${b.controlPort}`,
    '--bind',
    '127.0.0.1',
    '--token-env',
    'TUNNEL_TOKEN',
    '--log-level',
    'warn',
    '--instance-id',
    `ha-${i}-${generation}`,
    '--drain-timeout',
    '5s',
    '--peer-interval',
    '250ms',
    '--peer-timeout',
    '1s',
    '--drain-delay',
    '1500ms',
    '--ready-timeout',
    '20s',
    ...peers,
  ];
  return startChild(`exit-server-${i}`, process.execPath, args, {
    env: { ...childEnv(token), TUNNEL_ADMIN_TOKEN: benchAdminToken(token) },
  });
}

/** Resolves once `controlPort`'s /status lists every bench client exactly once, serving. */
export async function attached(controlPort, token, procs, deadline) {
  await until(
    deadline,
    procs,
    async () => {
      const res = await status(controlPort, token);
      if (res.status !== 200) return false;
      const clients = JSON.parse(res.body.toString('utf8')).clients.filter((c) => !c.draining);
      return CLIENTS.every((id) => clients.filter((c) => c.id === id).length === 1);
    },
    `both clients on :${controlPort}`,
    10,
  );
}

function get(port) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/small', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
      res.on('error', (e) => resolve(e.code ?? e.message));
    });
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve(e.code ?? e.message));
    req.end();
  });
}

/** `concurrency` loops of GET on fresh connections until stopped; `stop()` resolves `{ requests, failures }`. */
function continuousLoad(port, concurrency) {
  let running = true;
  let requests = 0;
  const failures = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      requests++;
      const err = await get(port);
      if (err) failures.push(err);
    }
  });
  return { count: () => requests, stop: async () => ((running = false), await Promise.all(loops), { requests, failures }) };
}

export async function fleet({ n, bins, token, upstreamUrl }) {
  const ports = await freePorts(2 * n);
  const backends = Array.from({ length: n }, (_, i) => ({ port: ports[2 * i], controlPort: ports[2 * i + 1] }));
  const servers = backends.map((_, i) => startServer({ bins, token, backends, i, generation: 0 }));
  const procs = () => [...servers, lb?.proc, ...clients].filter(Boolean);
  let lb;
  const clients = [];
  const deadline = Date.now() + LIMIT_MS;
  await Promise.all(
    backends.map((b, i) =>
      until(deadline, [servers[i]], async () => (await status(b.controlPort, token)).status === 200, 'exit server /status'),
    ),
  );
  lb = await startHaproxy(backends);
  const t0 = process.hrtime.bigint();
  for (const id of CLIENTS)
    clients.push(
      startEdgeClient({
        bins,
        token,
        controlPort: lb.controlPort,
        upstreamUrl,
        id,
        extraArgs: ['--reconnect-min', '100ms', '--reconnect-max', '1s'],
      }),
    );
  await Promise.all(backends.map((b) => attached(b.controlPort, token, procs(), Date.now() + LIMIT_MS)));
  const attachAllMs = sinceMs(t0);
  await lb.allUp(Date.now() + LIMIT_MS);
  const stop = async () => {
    await Promise.all(clients.map((c) => stopChild(c)));
    await lb.stop();
    await Promise.all(servers.map((s) => stopChild(s)));
  };
  return { backends, servers, lb, clients, procs, attachAllMs, stop };
}

/**
 * Resolves `{ throughput: { 1: figures, 3: figures }, attachAllMs, newServerAttachMs,
 * rolling: { requests, failures }, rollingKeptAlive: { requests, failed }, errors: [] }`.
 */
export async function runHa({ bins, token, durationSec, progress }) {
  const out = {
    throughput: {},
    attachAllMs: undefined,
    newServerAttachMs: [],
    rolling: undefined,
    rollingKeptAlive: undefined,
    errors: [],
  };
  const upstream = await startUpstream();
  const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
  try {
    for (const n of [1, 3]) {
      progress.phase(`[ha] small GETs through HAProxy, ${n} exit server${n > 1 ? 's' : ''}, 2 edge clients`);
      const f = await fleet({ n, bins, token, upstreamUrl });
      try {
        if (n === 3) out.attachAllMs = f.attachAllMs;
        const { figures } = await runLoad({ url: `http://127.0.0.1:${f.lb.publicPort}/small`, connections: 100, durationSec });
        out.throughput[n] = figures;
        progress.step();
        if (n !== 3) continue;
        progress.phase('[ha] rolling restart of the 3 exit servers under load (fresh connection per request)');
        const load = continuousLoad(f.lb.publicPort, 8);
        for (let i = 0; i < 3; i++) {
          const before = load.count();
          f.servers[i].child.kill('SIGTERM');
          await f.servers[i].exited;
          const t0 = process.hrtime.bigint();
          f.servers[i] = startServer({ bins, token, backends: f.backends, i, generation: 1 });
          await attached(f.backends[i].controlPort, token, f.procs(), Date.now() + LIMIT_MS);
          out.newServerAttachMs.push(sinceMs(t0));
          await f.lb.allUp(Date.now() + LIMIT_MS);
          // Let the load run through the whole fleet again before the next restart.
          await until(Date.now() + LIMIT_MS, f.procs(), async () => load.count() > before + 200, 'load progressing', 20);
        }
        out.rolling = await load.stop();
        // Again under kept-alive connections (autocannon): a connection through an L4 balancer is
        // pinned to one server, so this is where a drain that closes connections would show.
        progress.phase('[ha] rolling restart again under kept-alive load (autocannon, 20 connections)');
        const kept = runLoad({ url: `http://127.0.0.1:${f.lb.publicPort}/small`, connections: 20, durationSec: KEPT_ALIVE_WINDOW_S });
        for (let i = 0; i < 3; i++) {
          f.servers[i].child.kill('SIGTERM');
          await f.servers[i].exited;
          f.servers[i] = startServer({ bins, token, backends: f.backends, i, generation: 2 });
          await attached(f.backends[i].controlPort, token, f.procs(), Date.now() + LIMIT_MS);
          await f.lb.allUp(Date.now() + LIMIT_MS);
        }
        const k = (await kept).figures;
        out.rollingKeptAlive = { requests: k.requests + k.errors, failed: k.errors + k.non2xx };
        progress.step();
      } finally {
        await f.stop();
      }
    }
  } catch (err) {
    out.errors.push(err.message);
  } finally {
    await stopChild(upstream.proc);
  }
  return out;
}
