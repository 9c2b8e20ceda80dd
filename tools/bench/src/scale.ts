// Scale: N idle edge-client sessions on one exit server. The sessions come from a few child
// processes of idle-clients.ts (CLIENTS_PER_PROCESS each, real handshake, hostname
// c<i>.bench.test). Measures the exit server's RSS growth per client, the time to attach all N,
// and one request routed (by Host) to the last client.
import { readFileSync } from 'node:fs';
import { freePorts, httpRequest } from '@tunnel/testing';
import type { Bins } from './builds.ts';
import { startChild, stopChild, type ChildHandle } from './children.ts';
import { rssBytes } from './cpu.ts';
import type { Progress } from './progress.ts';
import { childEnv, startExitServer, status, statusClients } from './tunnel-procs.ts';
import { firstLine } from './wait.ts';

/** Idle sessions per idle-clients process. */
export const CLIENTS_PER_PROCESS = 2500;
/** Handshakes in flight per idle-clients process. */
const CONCURRENCY = 50;
/** Settle time before each RSS reading, ms. */
const SETTLE_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The request routed to the last client. */
export interface LastRequest {
  /** Host header (`c<N>.bench.test`). */
  readonly host: string;
  /** HTTP status. */
  readonly status: number;
  /** Response body (the client answers its id). */
  readonly body: string;
  /** Round trip, ms. */
  readonly ms: number;
  /** True on 200 with the expected body. */
  readonly ok: boolean;
}

/** The scale test's result for one N. */
export interface ScaleResult {
  /** Idle clients. */
  n: number;
  /** idle-clients processes. */
  processes?: number;
  /** Exit-server RSS before any client, bytes. */
  rssBeforeBytes?: number;
  /** Exit-server RSS with all attached, bytes. */
  rssAfterBytes?: number;
  /** (after - before) / n, bytes. */
  rssPerClientBytes?: number;
  /** The idle-clients processes' RSS per session, bytes. */
  clientRssPerSessionBytes?: number;
  /** Start of the first process -> all attached, ms. */
  attachMs?: number;
  /** Clients /status lists. */
  statusClients?: number;
  /** The request to the last client. */
  lastRequest?: LastRequest;
  /** Sessions that closed while they should have stayed idle. */
  lostSessions?: number;
  /** True when all attached, stayed and the last one answered. */
  ok: boolean;
  /** What went wrong. */
  error?: string;
}

/** Soft and hard open-files limits of this process (from /proc/self/limits). */
export function openFilesLimit(): { soft: number; hard: number } | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const n = (v: string): number => (v === 'unlimited' ? Infinity : Number(v));
    return m ? { soft: n(m[1]), hard: n(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}

/** The count of attached sessions a process last printed. */
function attachedOf(c: ChildHandle): number {
  let k = 0;
  for (const l of c.stdout().split('\n')) {
    const m = /^(?:attached|done) (\d+)/.exec(l);
    if (m) k = Number(m[1]);
  }
  return k;
}

/** Starts the idle-clients processes for clients 1..n against `controlPort`. */
function startIdleClients(bins: Bins, token: string, n: number, controlPort: number, processes: number): ChildHandle[] {
  const clients: ChildHandle[] = [];
  for (let p = 0; p < processes; p++) {
    const from = p * CLIENTS_PER_PROCESS + 1;
    const to = Math.min(n, from + CLIENTS_PER_PROCESS - 1);
    const arg = JSON.stringify({ url: `ws://127.0.0.1:${controlPort}`, from, to, concurrency: CONCURRENCY });
    clients.push(
      startChild(`idle-clients-${p + 1}`, process.execPath, [bins['idle-clients'], arg], { env: childEnv(token), stdin: 'pipe' }),
    );
  }
  return clients;
}

/** Waits until every process printed `done` (throws on `failed`), showing the count as progress detail. */
async function allAttached(clients: readonly ChildHandle[], n: number, progress: Progress | undefined): Promise<void> {
  const budgetMs = 60_000 + n * 20;
  const ticker = setInterval(() => progress?.detail(`${clients.reduce((sum, c) => sum + attachedOf(c), 0)}/${n} attached`), 500);
  try {
    await Promise.all(
      clients.map(async (c) => {
        const line = await c.waitForLine((l) => /^(done|failed) /.test(l), budgetMs);
        if (line.startsWith('failed')) throw new Error(`${c.name}: ${line}`);
      }),
    );
  } finally {
    clearInterval(ticker);
    progress?.detail('');
  }
}

/** GET / with the last client's hostname through the public port. */
async function requestLast(port: number, n: number): Promise<LastRequest> {
  const host = `c${n}.bench.test`;
  const t = process.hrtime.bigint();
  const last = await httpRequest(`http://127.0.0.1:${port}/`, { host, timeoutMs: 10_000 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const body = last.body;
  return { host, status: last.status, body, ms, ok: last.status === 200 && body === `c${n}` };
}

/** Attaches the clients and fills in the figures of `result`. */
async function measureScale(
  result: ScaleResult,
  server: ChildHandle,
  clients: ChildHandle[],
  ports: { port: number; controlPort: number },
  ctx: ScaleOptions,
): Promise<void> {
  const { n, token, progress } = ctx;
  await sleep(SETTLE_MS);
  result.rssBeforeBytes = rssBytes(server.pid);
  const started = Date.now();
  clients.push(...startIdleClients(ctx.bins, token, n, ports.controlPort, result.processes ?? 0));
  await allAttached(clients, n, progress);
  result.attachMs = Date.now() - started;
  const res = await status(ports.controlPort, token, 10_000);
  result.statusClients = res.status === 200 ? statusClients(res).length : undefined;
  await sleep(SETTLE_MS);
  result.rssAfterBytes = rssBytes(server.pid);
  result.rssPerClientBytes = ((result.rssAfterBytes ?? NaN) - (result.rssBeforeBytes ?? NaN)) / n;
  result.clientRssPerSessionBytes = clients.map((c) => rssBytes(c.pid) ?? 0).reduce((a, b) => a + b, 0) / n;
  const last = (result.lastRequest = await requestLast(ports.port, n));
  const lost = clients.flatMap((c) =>
    c
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('lost ')),
  );
  if (lost.length > 0) result.lostSessions = lost.length;
  result.ok = result.statusClients === n && last.ok && !result.lostSessions;
  if (!result.ok) {
    result.error =
      `status lists ${result.statusClients}/${n} clients; request to ${last.host}: ${last.status} ${JSON.stringify(last.body.slice(0, 80))}` +
      (result.lostSessions ? `; ${result.lostSessions} sessions lost` : '');
  }
}

/** Settings of {@link runScale}. */
export interface ScaleOptions {
  /** Idle clients. */
  readonly n: number;
  /** The run's program copies. */
  readonly bins: Bins;
  /** The run's client token. */
  readonly token: string;
  /** Where to show the attach count. */
  readonly progress?: Progress;
}

/** Runs the scale test for `n` clients. */
export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const { n, bins, token } = opts;
  const limits = openFilesLimit();
  const needFds = n + 1024;
  if (limits && limits.hard < needFds) {
    return { n, ok: false, error: `open-files hard limit ${limits.hard} < ${needFds} needed for ${n} clients (raise it: ulimit -Hn)` };
  }
  const [port, controlPort] = await freePorts(2);
  const result: ScaleResult = { n, processes: Math.ceil(n / CLIENTS_PER_PROCESS), ok: false };
  const clients: ChildHandle[] = [];
  let server: ChildHandle | undefined;
  try {
    const nofile = limits && limits.soft < needFds ? Math.min(limits.hard, Math.max(needFds, 65536)) : undefined;
    server = await startExitServer({ bins, token, port, controlPort, name: 'exit-server-scale', nofile });
    await measureScale(result, server, clients, { port, controlPort }, opts);
  } catch (err) {
    result.error = firstLine(err);
  } finally {
    for (const c of clients) await stopChild(c, 5000);
    if (server) await stopChild(server, 5000);
  }
  return result;
}
