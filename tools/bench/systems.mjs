// The systems under test, each started from scratch with fresh random ports:
//   direct    autocannon -> upstream
//   tunnel    autocannon -> exit server (public port) -> 1 edge client -> upstream
//   tunnel-2  the same with 2 edge clients (round-robin)
// Every process is a child started here and stopped by its PID.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startChild, stopChild } from './children.mjs';
import { httpGet } from './http.mjs';
import { freePorts } from './ports.mjs';
import { SMALL_BYTES } from './shapes.mjs';

const UPSTREAM = fileURLToPath(new URL('./upstream.mjs', import.meta.url));

const READY_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

/** Systems in their round-1 order. */
export const SYSTEMS = [
  { name: 'direct', edgeClients: 0 },
  { name: 'tunnel', edgeClients: 1 },
  { name: 'tunnel-2', edgeClients: 2 },
];

/** A fresh random token for one run. */
export function newToken() {
  return randomBytes(24).toString('base64url');
}

/**
 * Starts `spec` and waits until it serves GET /small. `bins` maps `exit-server` and
 * `edge-client` to their bundles (see builds.mjs). Resolves a running system:
 * `{ name, url, ports, tunnelProcs, upstreamProc, deadProcs(), stop() }` where `tunnelProcs` are
 * the exit server and edge clients (`{ name, pid }`) whose CPU time is charged to the tunnel.
 * Retries with new ports when a port was taken in between (EADDRINUSE).
 */
export async function startSystem(spec, { token, bins }) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(spec, token, bins);
    } catch (err) {
      if (attempt >= START_ATTEMPTS || !/EADDRINUSE/.test(err.message)) {
        throw new Error(`${spec.name} failed to start: ${err.message}`, { cause: err });
      }
    }
  }
}

async function startOnce(spec, token, bins) {
  const procs = [];
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    const upstream = startChild('upstream', process.execPath, [UPSTREAM], { stdin: 'pipe' });
    procs.push(upstream);
    const portLine = await upstream.waitForLine((l) => /^\d+$/.test(l.trim()), READY_TIMEOUT_MS);
    const upstreamPort = Number(portLine.trim());
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    const ports = { upstream: upstreamPort };
    let url = upstreamUrl;

    if (spec.edgeClients > 0) {
      const [port, controlPort] = await freePorts(2);
      Object.assign(ports, { public: port, control: controlPort });
      const env = childEnv(token);
      const exitServer = startChild(
        'exit-server',
        process.execPath,
        [bins['exit-server'], '--port', `${port}`, '--control-port', `${controlPort}`, '--bind', '127.0.0.1',
          '--token-env', 'TUNNEL_TOKEN', '--log-level', 'warn', '--instance-id', 'bench', '--drain-timeout', '1s'],
        { env },
      );
      procs.push(exitServer);
      const statusUrl = `http://127.0.0.1:${controlPort}/status`;
      const auth = { authorization: `Bearer ${token}` };
      // Start the edge clients once the control port answers, so they connect on the first try.
      await until(deadline, procs, async () => (await httpGet(statusUrl, { headers: auth })).status === 200, 'exit server /status');
      for (let i = 1; i <= spec.edgeClients; i++) {
        procs.push(
          startChild(
            `edge-client-${i}`,
            process.execPath,
            [bins['edge-client'], '--url', `ws://127.0.0.1:${controlPort}`, '--upstream', upstreamUrl,
              '--token-env', 'TUNNEL_TOKEN', '--id', `bench-${i}`, '--log-level', 'warn', '--drain-timeout', '1s'],
            { env },
          ),
        );
      }
      await until(
        deadline,
        procs,
        async () => {
          const res = await httpGet(statusUrl, { headers: auth });
          if (res.status !== 200) return false;
          const ids = new Set(JSON.parse(res.body.toString('utf8')).clients.map((c) => c.id));
          return Array.from({ length: spec.edgeClients }, (_, i) => `bench-${i + 1}`).every((id) => ids.has(id));
        },
        `${spec.edgeClients} edge client(s) in /status`,
      );
      url = `http://127.0.0.1:${port}`;
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

    const [upstreamProc, ...tunnelProcs] = procs;
    return {
      name: spec.name,
      url,
      ports,
      upstreamProc: { name: upstreamProc.name, pid: upstreamProc.pid },
      tunnelProcs: tunnelProcs.map((p) => ({ name: p.name, pid: p.pid })),
      /** Names of processes of this system that have exited (should stay empty). */
      deadProcs: () => procs.filter((p) => p.hasExited()).map((p) => p.name),
      stop: () => stopAllOf(procs),
    };
  } catch (err) {
    await stopAllOf(procs);
    throw err;
  }
}

/** Stops edge clients first, then the exit server, then the upstream. */
async function stopAllOf(procs) {
  for (const p of [...procs].reverse()) await stopChild(p);
}

/** The environment for the apps: ours minus any TUNNEL_* settings, plus the run's token. */
function childEnv(token) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TUNNEL_')));
  env.TUNNEL_TOKEN = token;
  return env;
}

/** Polls `check` every 100 ms until it returns true; fails fast if a process exits. */
async function until(deadline, procs, check, what) {
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
      throw new Error(`not ready within ${READY_TIMEOUT_MS} ms: ${what}${lastError}${tails}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
