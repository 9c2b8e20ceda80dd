#!/usr/bin/env node
// `npm start`: the whole tunnel on loopback. Builds (Nx cache makes it quick when nothing
// changed), then runs one exit server, two sample apps ("pi-1", "pi-2") and two edge clients
// with a freshly generated token, prints the public URL, and stops everything on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const publicPort = Number(flag('--port', '8000'));
const controlPort = Number(flag('--control-port', '8123'));
const logLevel = flag('--log-level', 'info');
// MALLOC_TRIM_THRESHOLD_: keep freed heap instead of page-faulting fresh pages on every socket read (README, Performance).
const env = { MALLOC_TRIM_THRESHOLD_: '67108864', ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
// The V8 flag the exit server's and edge client's images run with: a 1 MiB young generation (README, Performance).
const TUNNEL_NODE_FLAGS = ['--max-semi-space-size=1'];

const build = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'build', '-p', 'exit-server', 'edge-client', 'sample-app', '--outputStyle=static'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  },
);
if (build.status !== 0) {
  console.error('demo: build failed (run `npm run build` to see why)');
  process.exit(1);
}

const token = randomBytes(24).toString('base64url');
// A separate admin token: /status never opens with the client token the edge clients hold.
const adminToken = randomBytes(24).toString('base64url');
const children = [];
let stopping = false;

function start(name, script, argv, onLine, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, script, ...argv], {
    env: { ...env, DEMO_TUNNEL_TOKEN: token, ...(script.includes('exit-server') ? { DEMO_ADMIN_TOKEN: adminToken } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const relay = (buf) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      onLine?.(line);
      let text = line;
      try {
        const j = JSON.parse(line);
        const { level: _l, time: _t, app: _a, pid: _p, hostname: _h, msg, ...rest } = j;
        text = `${msg ?? ''} ${Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')}`;
      } catch {
        // not JSON: print as is
      }
      process.stdout.write(`${name.padEnd(12)} | ${text}\n`);
    }
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`demo: ${name} exited (${signal ?? code}); stopping`);
      void stop(1);
    }
  });
  return child;
}

function waitFor(child, test) {
  return new Promise((resolve, reject) => {
    const onData = (buf) => {
      if (test(buf.toString())) {
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', () => reject(new Error('exited before it was ready')));
  });
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // Clients first, so they drain cleanly; then the server and the apps.
  for (const group of [children.filter((c) => c.spawnargs[1].includes('edge-client')), children]) {
    await Promise.all(
      group.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? undefined
          : new Promise((r) => {
              c.once('exit', r);
              c.kill('SIGTERM');
            }),
      ),
    );
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  const apps = [];
  for (const name of ['pi-1', 'pi-2']) {
    let url = '';
    const app = start(
      `app ${name}`,
      'apps/sample-app/dist/main.js',
      ['--port', '0', '--bind', '127.0.0.1', '--name', name, '--log-level', 'warn'],
      (l) => {
        url ||= /listening on (http:\/\/\S+)/.exec(l)?.[1] ?? '';
      },
    );
    await waitFor(app, () => url !== '');
    apps.push(url);
  }
  const server = start(
    'exit-server',
    'apps/exit-server/dist/main.js',
    [
      '--port',
      String(publicPort),
      '--control-port',
      String(controlPort),
      '--bind',
      '127.0.0.1',
      '--token-env',
      'DEMO_TUNNEL_TOKEN',
      '--admin-token-env',
      'DEMO_ADMIN_TOKEN',
      '--log-level',
      logLevel,
    ],
    undefined,
    TUNNEL_NODE_FLAGS,
  );
  await waitFor(server, (t) => t.includes('exit server listening'));
  for (const [i, url] of apps.entries()) {
    const client = start(
      `edge pi-${i + 1}`,
      'apps/edge-client/dist/main.js',
      [
        '--url',
        `ws://127.0.0.1:${controlPort}`,
        '--upstream',
        url,
        '--token-env',
        'DEMO_TUNNEL_TOKEN',
        '--id',
        `pi-${i + 1}`,
        '--log-level',
        logLevel,
      ],
      undefined,
      TUNNEL_NODE_FLAGS,
    );
    await waitFor(client, (t) => t.includes('tunnel established'));
  }
  const base = `http://127.0.0.1:${publicPort}`;
  console.log(`
  Tunnel is up. Public URL: ${base}/
    curl ${base}/                 # round-robin between pi-1 and pi-2 ("instance")
    curl ${base}/sse              # Server-Sent Events through the tunnel
    curl -sH "authorization: Bearer ${adminToken}" http://127.0.0.1:${controlPort}/status
    curl -sH "authorization: Bearer ${adminToken}" http://127.0.0.1:${controlPort}/metrics   # Prometheus
    DEMO_ADMIN_TOKEN=${adminToken} npx exit-server status --url http://127.0.0.1:${controlPort} --admin-token-env DEMO_ADMIN_TOKEN
  Live status page: http://127.0.0.1:${controlPort}/ui  (log in with the admin token below)
  (${adminToken} is this demo's throw-away admin token; the edge clients' token does not open /status, /metrics or /ui).
  Ctrl-C stops everything.
`);
} catch (err) {
  console.error(`demo: failed to start: ${err.message}`);
  await stop(1);
}
