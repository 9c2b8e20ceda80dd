// Scale: N idle edge-client sessions on one exit server. The sessions come from a few child
// processes of idle-clients.mjs (CLIENTS_PER_PROCESS each, real handshake, hostname
// c<i>.bench.test). Measures the exit server's RSS growth per client, the time to attach all N,
// and one request routed (by Host) to the last client.
import { readFileSync } from 'node:fs';
import { startChild, stopChild } from './children.mjs';
import { rssBytes } from './cpu.mjs';
import { httpGet } from './http.mjs';
import { freePorts } from './ports.mjs';
import { childEnv, startExitServer, status } from './systems.mjs';

export const CLIENTS_PER_PROCESS = 2500;
/** Handshakes in flight per idle-clients process. */
const CONCURRENCY = 50;
/** Settle time before each RSS reading, ms. */
const SETTLE_MS = 2000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Soft and hard open-files limits of this process (from /proc/self/limits). */
export function openFilesLimit() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const n = (v) => (v === 'unlimited' ? Infinity : Number(v));
    return m ? { soft: n(m[1]), hard: n(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the scale test for `n` clients. Resolves
 * `{ n, processes, rssBeforeBytes, rssAfterBytes, rssPerClientBytes, clientRssPerSessionBytes,
 *    attachMs, statusClients, lastRequest: { host, status, body, ms, ok }, ok, error? }`.
 */
export async function runScale({ n, bins, token, progress }) {
  const limits = openFilesLimit();
  const needFds = n + 1024;
  if (limits && limits.hard < needFds) {
    return { n, ok: false, error: `open-files hard limit ${limits.hard} < ${needFds} needed for ${n} clients (raise it: ulimit -Hn)` };
  }
  const [port, controlPort] = await freePorts(2);
  const result = { n, processes: Math.ceil(n / CLIENTS_PER_PROCESS), ok: false };
  const clients = [];
  let server;
  try {
    server = await startExitServer({
      bins,
      token,
      port,
      controlPort,
      name: 'exit-server-scale',
      nofile: limits && limits.soft < needFds ? Math.min(limits.hard, Math.max(needFds, 65536)) : undefined,
    });
    await sleep(SETTLE_MS);
    result.rssBeforeBytes = rssBytes(server.pid);

    const started = Date.now();
    for (let p = 0; p < result.processes; p++) {
      const from = p * CLIENTS_PER_PROCESS + 1;
      const to = Math.min(n, from + CLIENTS_PER_PROCESS - 1);
      const arg = JSON.stringify({ url: `ws://127.0.0.1:${controlPort}`, from, to, concurrency: CONCURRENCY });
      clients.push(
        startChild(`idle-clients-${p + 1}`, process.execPath, [bins['idle-clients'], arg], { env: childEnv(token), stdin: 'pipe' }),
      );
    }
    const budgetMs = 60_000 + n * 20;
    const attachedOf = (c) => {
      let k = 0;
      for (const l of c.stdout().split('\n')) {
        const m = /^(?:attached|done) (\d+)/.exec(l);
        if (m) k = Number(m[1]);
      }
      return k;
    };
    const countAttached = () => clients.reduce((sum, c) => sum + attachedOf(c), 0);
    const ticker = setInterval(() => progress?.detail(`${countAttached()}/${n} attached`), 500);
    try {
      await Promise.all(
        clients.map((c) =>
          c
            .waitForLine((l) => /^(done|failed) /.test(l), budgetMs)
            .then((line) => {
              if (line.startsWith('failed')) throw new Error(`${c.name}: ${line}`);
            }),
        ),
      );
    } finally {
      clearInterval(ticker);
      progress?.detail('');
    }
    result.attachMs = Date.now() - started;
    const res = await status(controlPort, token, 10_000);
    result.statusClients = res.status === 200 ? JSON.parse(res.body.toString('utf8')).clients.length : undefined;
    await sleep(SETTLE_MS);
    result.rssAfterBytes = rssBytes(server.pid);
    result.rssPerClientBytes = (result.rssAfterBytes - result.rssBeforeBytes) / n;
    const clientRss = clients.map((c) => rssBytes(c.pid) ?? 0).reduce((a, b) => a + b, 0);
    result.clientRssPerSessionBytes = clientRss / n;

    const host = `c${n}.bench.test`;
    const t = process.hrtime.bigint();
    const last = await httpGet(`http://127.0.0.1:${port}/`, { headers: { host }, timeoutMs: 10_000 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const body = last.body.toString('utf8');
    result.lastRequest = { host, status: last.status, body, ms, ok: last.status === 200 && body === `c${n}` };
    const lost = clients.flatMap((c) =>
      c
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('lost ')),
    );
    if (lost.length > 0) result.lostSessions = lost.length;
    result.ok = result.statusClients === n && result.lastRequest.ok && !result.lostSessions;
    if (!result.ok) {
      result.error =
        `status lists ${result.statusClients}/${n} clients; request to ${host}: ${last.status} ${JSON.stringify(body.slice(0, 80))}` +
        (result.lostSessions ? `; ${result.lostSessions} sessions lost` : '');
    }
  } catch (err) {
    result.error = err.message.split('\n')[0];
  } finally {
    for (const c of clients) await stopChild(c, 5000);
    if (server) await stopChild(server, 5000);
  }
  return result;
}
