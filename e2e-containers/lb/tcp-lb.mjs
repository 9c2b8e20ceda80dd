// A small L4 load balancer for the container scale-out test (the ALB's stand-in; HAProxy cannot
// be pulled and is not in the local base image). Round-robin over every address of BACKENDS (a
// DNS name: the exit servers' network alias, re-resolved every second), for two frontends:
//   :8000 -> backend:8000, only to backends whose GET :8123/readyz answers 200
//   :8123 -> backend:8123, only to backends whose GET :8123/healthz answers 200
// Health is checked every CHECK_MS; a connect that fails is retried on the next backend (as
// HAProxy's `retries` + `option redispatch` do). Bytes are piped both ways, half-close kept.
import { lookup } from 'node:dns/promises';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';

const BACKENDS = process.env.BACKENDS ?? 'exit-peers';
const CHECK_MS = Number(process.env.CHECK_MS ?? 250);
const RETRIES = 3;
/** address -> { ready: boolean, live: boolean } */
const health = new Map();

function probe(host, path) {
  return new Promise((resolve) => {
    const req = get({ host, port: 8123, path, agent: false, timeout: CHECK_MS * 2 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function check() {
  let addrs = [];
  try {
    addrs = (await lookup(BACKENDS, { all: true })).map((a) => a.address);
  } catch {
    addrs = [];
  }
  for (const a of health.keys()) if (!addrs.includes(a)) health.delete(a);
  await Promise.all(addrs.map(async (a) => health.set(a, { live: await probe(a, '/healthz'), ready: await probe(a, '/readyz') })));
}

let rr = 0;
function pick(kind, exclude) {
  const ok = [...health.entries()]
    .filter(([a, h]) => h[kind] && !exclude.has(a))
    .map(([a]) => a)
    .sort();
  if (ok.length === 0) return undefined;
  return ok[rr++ % ok.length];
}

function frontend(port, kind) {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    client.pause();
    client.on('error', () => client.destroy());
    const tried = new Set();
    const attempt = () => {
      const addr = pick(kind, tried);
      if (!addr || tried.size >= RETRIES) return client.destroy();
      tried.add(addr);
      const upstream = connect({ host: addr, port, allowHalfOpen: true });
      // Refused before connecting: nothing was sent, so the next backend may take it.
      const refused = () => attempt();
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt();
  });
  server.listen(port, '0.0.0.0');
}

await check();
setInterval(() => void check(), CHECK_MS);
frontend(8000, 'ready');
frontend(8123, 'live');
console.log(JSON.stringify({ msg: 'load balancer listening', backends: BACKENDS }));
process.on('SIGTERM', () => process.exit(0));
