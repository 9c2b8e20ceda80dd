// The systems under test, each started from scratch with fresh random ports:
//   direct    autocannon -> upstream
//   nginx     autocannon -> nginx (one proxy hop, keep-alive pool, streaming) -> upstream
//   ssh -R    autocannon -> sshd's forwarded port -> ssh connection -> ssh client -> upstream
//   tunnel    autocannon -> exit server (public port) -> 1 edge client -> upstream
//   tunnel-2  the same with 2 edge clients, balanced per request (the default, --balance request)
//   tunnel-2 conn  2 edge clients balanced per connection (--balance connection), to price per-request balancing
// Systems with `tcp` also expose the upstream's TCP sink (direct: itself; ssh: a second -R;
// tunnel: the exit server's --tcp-port and the edge client's --tcp).
// Every process is a child started here and stopped by its PID.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startChild, stopChild } from './children.mjs';
import { httpGet } from './http.mjs';
import { startNginx, startSsh } from './peers.mjs';
import { freePorts } from './ports.mjs';
import { SMALL_BYTES } from './shapes.mjs';

const UPSTREAM = fileURLToPath(new URL('./upstream.mjs', import.meta.url));

export const READY_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

/** Systems in their round-1 order. `peer`: needs an external tool (see peers.mjs). */
export const SYSTEMS = [
  { name: 'direct', kind: 'direct', edgeClients: 0, tcp: true },
  { name: 'nginx', kind: 'nginx', edgeClients: 0, peer: 'nginx' },
  { name: 'ssh -R', kind: 'ssh', edgeClients: 0, tcp: true, peer: 'ssh' },
  { name: 'tunnel', kind: 'tunnel', edgeClients: 1, tcp: true },
  { name: 'tunnel-2', kind: 'tunnel', edgeClients: 2 },
  { name: 'tunnel-2 conn', kind: 'tunnel', edgeClients: 2, serverArgs: ['--balance', 'connection'] },
];

/** A fresh random token for one run. */
export function newToken() {
  return randomBytes(24).toString('base64url');
}

/**
 * Starts `spec` and waits until it serves GET /small (and accepts TCP on its TCP port).
 * Resolves a running system: `{ name, url, tcpPort, ports, tunnelProcs, upstreamProc,
 * deadProcs(), stop() }` where `tunnelProcs` (`{ name, pid, tree? }`) are the processes whose CPU
 * time is charged to the system (exit server + edge clients, nginx, sshd tree + ssh).
 * Retries with new ports when a port was taken in between.
 */
export async function startSystem(spec, ctx) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(spec, ctx);
    } catch (err) {
      if (attempt >= START_ATTEMPTS || !/EADDRINUSE|address already in use/i.test(err.message)) {
        throw new Error(`${spec.name} failed to start: ${err.message}`, { cause: err });
      }
    }
  }
}

/** Starts the upstream child; resolves `{ proc, http, tcp }` (its ports). */
export async function startUpstream() {
  const proc = startChild('upstream', process.execPath, [UPSTREAM], { stdin: 'pipe' });
  try {
    const line = await proc.waitForLine((l) => l.trim().startsWith('{'), READY_TIMEOUT_MS);
    const { http, tcp } = JSON.parse(line);
    return { proc, http, tcp };
  } catch (err) {
    await stopChild(proc);
    throw err;
  }
}

/**
 * The node flags the exit server's and edge client's images run with (their Dockerfiles'
 * ENTRYPOINT): a 1 MiB young generation, see the README's Performance section.
 */
export const TUNNEL_NODE_FLAGS = ['--max-semi-space-size=1'];

/**
 * The environment for the apps: ours minus any TUNNEL_* settings, plus the run's token and the
 * malloc setting the apps' images ship with (MALLOC_TRIM_THRESHOLD_, see the README).
 */
export function childEnv(token) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TUNNEL_')));
  env.TUNNEL_TOKEN = token;
  env.MALLOC_TRIM_THRESHOLD_ ??= '67108864';
  return env;
}

/**
 * The admin token of a run's exit servers (opens /status): derived from the run's client token
 * so callers keep passing one token, yet distinct from it, and given to exit servers only.
 */
export function benchAdminToken(token) {
  return `${token}-admin`;
}

/**
 * Starts an exit server on 127.0.0.1 and waits until /status answers. `nofile`: raise the soft
 * open-files limit for it (through `sh -c 'ulimit -n ..; exec ..'`, so the PID is the server's).
 */
export async function startExitServer({
  bins,
  token,
  port,
  controlPort,
  tcpPorts = [],
  extraArgs = [],
  nofile,
  name = 'exit-server',
  deadline = Date.now() + READY_TIMEOUT_MS,
}) {
  const args = [
    ...TUNNEL_NODE_FLAGS,
    bins['exit-server'],
    '--port',
    `${port}`,
    '--control-port',
    `${controlPort}`,
    '--bind',
    '127.0.0.1',
    '--token-env',
    'TUNNEL_TOKEN',
    '--log-level',
    'warn',
    '--access-log',
    'off',
    '--instance-id',
    'bench',
    '--drain-timeout',
    '1s',
    ...tcpPorts.flatMap((p) => ['--tcp-port', `${p}`]),
    ...extraArgs,
  ];
  const serverEnv = { ...childEnv(token), TUNNEL_ADMIN_TOKEN: benchAdminToken(token) };
  const proc = nofile
    ? startChild(
        name,
        '/bin/sh',
        ['-c', `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...args],
        { env: serverEnv },
      )
    : startChild(name, process.execPath, args, { env: serverEnv });
  try {
    await until(deadline, [proc], async () => (await status(controlPort, token)).status === 200, 'exit server /status');
  } catch (err) {
    await stopChild(proc);
    throw err;
  }
  return proc;
}

/** GET /status on the control port, with the admin token of the run whose client token is `token`. */
export function status(controlPort, token, timeoutMs = 2000) {
  return httpGet(`http://127.0.0.1:${controlPort}/status`, { headers: { authorization: `Bearer ${benchAdminToken(token)}` }, timeoutMs });
}

/** Starts one real edge client (`extraArgs` e.g. `--tcp`, `--reconnect-min`). */
export function startEdgeClient({ bins, token, controlPort, upstreamUrl, id, extraArgs = [] }) {
  return startChild(
    `edge-client-${id}`,
    process.execPath,
    [
      ...TUNNEL_NODE_FLAGS,
      bins['edge-client'],
      '--url',
      `ws://127.0.0.1:${controlPort}`,
      ...(upstreamUrl ? ['--upstream', upstreamUrl] : []),
      '--token-env',
      'TUNNEL_TOKEN',
      '--id',
      id,
      '--log-level',
      'warn',
      '--access-log',
      'off',
      '--drain-timeout',
      '1s',
      ...extraArgs,
    ],
    { env: childEnv(token) },
  );
}

async function startOnce(spec, { token, bins, peers }) {
  const procs = [];
  const cleanups = [];
  let customStop;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    const upstream = await startUpstream();
    procs.push(upstream.proc);
    const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
    const ports = { upstream: upstream.http, upstreamTcp: upstream.tcp };
    let url = upstreamUrl;
    let tcpPort = spec.tcp ? upstream.tcp : undefined;
    let tunnelProcs = [];

    if (spec.kind === 'nginx') {
      const [port] = await freePorts(1);
      ports.public = port;
      const nginx = startNginx(peers.nginx.bin, { port, upstreamPort: upstream.http });
      procs.push(...nginx.procs);
      cleanups.push(nginx.cleanup);
      tunnelProcs = nginx.cpuProcs;
      url = `http://127.0.0.1:${port}`;
    } else if (spec.kind === 'ssh') {
      const [sshdPort, port, tcpPub] = await freePorts(3);
      Object.assign(ports, { sshd: sshdPort, public: port, publicTcp: tcpPub });
      const ssh = startSsh(peers.ssh, {
        sshdPort,
        forwards: [
          { remote: port, local: upstream.http },
          { remote: tcpPub, local: upstream.tcp },
        ],
      });
      procs.push(ssh.sshd);
      cleanups.push(ssh.cleanup);
      await until(deadline, procs, () => canConnect(sshdPort), `sshd on port ${sshdPort}`);
      const client = ssh.startClient();
      procs.push(client);
      customStop = () => ssh.stop(client);
      tunnelProcs = ssh.cpuProcs(client);
      url = `http://127.0.0.1:${port}`;
      tcpPort = tcpPub;
    } else if (spec.kind === 'tunnel') {
      const [port, controlPort, tcpPub] = await freePorts(3);
      Object.assign(ports, { public: port, control: controlPort, ...(spec.tcp ? { publicTcp: tcpPub } : {}) });
      procs.push(
        await startExitServer({
          bins,
          token,
          port,
          controlPort,
          tcpPorts: spec.tcp ? [tcpPub] : [],
          extraArgs: spec.serverArgs ?? [],
          deadline,
        }),
      );
      for (let i = 1; i <= spec.edgeClients; i++) {
        const extraArgs = spec.tcp && i === 1 ? ['--tcp', `${tcpPub}=127.0.0.1:${upstream.tcp}`] : [];
        procs.push(startEdgeClient({ bins, token, controlPort, upstreamUrl, id: `bench-${i}`, extraArgs }));
      }
      await until(
        deadline,
        procs,
        async () => {
          const res = await status(controlPort, token);
          if (res.status !== 200) return false;
          const ids = new Set(JSON.parse(res.body.toString('utf8')).clients.map((c) => c.id));
          return Array.from({ length: spec.edgeClients }, (_, i) => `bench-${i + 1}`).every((id) => ids.has(id));
        },
        `${spec.edgeClients} edge client(s) in /status`,
      );
      tunnelProcs = procs.slice(1).map((p) => ({ name: p.name, pid: p.pid }));
      url = `http://127.0.0.1:${port}`;
      if (spec.tcp) tcpPort = tcpPub;
    }

    // One good request per path through the whole chain (and one per edge client, round-robin).
    for (let i = 0; i < Math.max(1, spec.edgeClients); i++) {
      await until(
        deadline,
        procs,
        async () => {
          const res = await httpGet(`${url}/small`);
          return res.status === 200 && res.body.length === SMALL_BYTES;
        },
        `GET ${url}/small`,
      );
    }
    if (tcpPort !== undefined) await until(deadline, procs, () => canConnect(tcpPort), `TCP port ${tcpPort}`);

    const stopAllProcs = async () => {
      try {
        if (customStop) await customStop();
        await stopAllOf(procs);
      } finally {
        for (const c of cleanups) c();
      }
    };
    return {
      name: spec.name,
      url,
      tcpPort,
      ports,
      upstreamProc: { name: upstream.proc.name, pid: upstream.proc.pid },
      tunnelProcs,
      /** Names of processes of this system that have exited (should stay empty). */
      deadProcs: () => procs.filter((p) => p.hasExited()).map((p) => p.name),
      stop: stopAllProcs,
    };
  } catch (err) {
    try {
      if (customStop) await customStop();
      await stopAllOf(procs);
    } finally {
      for (const c of cleanups) c();
    }
    throw err;
  }
}

/** Stops the processes in reverse start order (edge clients, exit server, upstream). */
async function stopAllOf(procs) {
  for (const p of [...procs].reverse()) await stopChild(p);
}

/** True if 127.0.0.1:`port` accepts a TCP connection (closed again at once). */
export function canConnect(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    const done = (ok) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Polls `check` every 100 ms (or `intervalMs`) until it returns true; fails fast if a process exits. */
export async function until(deadline, procs, check, what, intervalMs = 100) {
  let lastError = '';
  for (;;) {
    const dead = procs.find((p) => p.hasExited());
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what} ${dead.stderrTail()}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = ` (last error: ${err.message})`;
    }
    if (Date.now() > deadline) {
      const tails = procs.map((p) => p.stderrTail()).join('');
      throw new Error(`not ready in time: ${what}${lastError}${tails}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
