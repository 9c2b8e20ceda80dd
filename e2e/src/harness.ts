import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Path of an app's built entry; the e2e target depends on the apps' build. */
function entry(app: 'exit-server' | 'edge-client' | 'sample-app'): string {
  const path = `${root}apps/${app}/dist/main.js`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}

/** A child process whose output lines are kept so tests can wait on them. */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line) continue;
        this.lines.push(line);
        if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no matching line within ${timeoutMs} ms; last lines:\n${this.lines.slice(-10).join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Waits for a JSON log line whose `msg` equals `msg` (and matches `fields`); returns it parsed. */
  async waitForLog(msg: string, fields: Record<string, unknown> = {}, timeoutMs?: number): Promise<Record<string, unknown>> {
    const line = await this.waitForLine((l) => {
      const j = parseJson(l);
      return !!j && j.msg === msg && Object.entries(fields).every(([k, v]) => j[k] === v);
    }, timeoutMs);
    return parseJson(line) as Record<string, unknown>;
  }

  /** Count of JSON log lines with this `msg` so far. */
  countLogs(msg: string): number {
    return this.lines.filter((l) => parseJson(l)?.msg === msg).length;
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** Resident set size of the process, bytes (and its peak). */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Every process a test file started, so `stopAll` can clean up even after failures. */
const started = new Set<Proc>();

/**
 * Every tunnel process runs with poisoned read buffers: a pooled buffer is overwritten as soon as
 * it is reused, so a slice some consumer kept without a lease corrupts the bodies the tests check.
 */
const TUNNEL_TEST_ENV = { TUNNEL_POISON_READ_BUFFERS: 'true' };
/**
 * Node flags the images' ENTRYPOINT (and the demo and bench) run the tunnel with: a 1 MiB young
 * generation. Without it V8 grows the young generation under read garbage (to 16 MiB on Node 20,
 * more on 24), and the memory bounds the e2e asserts would measure a process no one deploys.
 */
const TUNNEL_NODE_FLAGS = ['--max-semi-space-size=1'];

/** Spawns an app's built entry without waiting for anything (see the start* helpers for that). */
export function run(
  name: string,
  app: 'exit-server' | 'edge-client' | 'sample-app',
  args: string[],
  env: Record<string, string> = {},
): Proc {
  const child = spawn(process.execPath, [...(app === 'sample-app' ? [] : TUNNEL_NODE_FLAGS), entry(app), ...args], {
    env: { PATH: process.env.PATH ?? '', ...(app === 'sample-app' ? {} : TUNNEL_TEST_ENV), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new Proc(name, child);
  started.add(proc);
  void proc.exited.then(() => started.delete(proc));
  return proc;
}

/** Kills every process still running (afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop('SIGKILL')));
}

/** A random token for one test file (32 characters). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** A running sample app. */
export interface SampleApp {
  readonly proc: Proc;
  readonly url: string;
  readonly port: number;
}

/** Starts a sample app on an ephemeral loopback port. */
export async function startSampleApp(name: string): Promise<SampleApp> {
  const proc = run(`app:${name}`, 'sample-app', ['--port', '0', '--bind', '127.0.0.1', '--name', name, '--log-level', 'warn']);
  const line = await proc.waitForLine((l) => l.includes('listening on'));
  const url = /(http:\/\/\S+)/.exec(line)?.[1] ?? '';
  return { proc, url: url.replace(/\/$/, ''), port: Number(new URL(url).port) };
}

/** A running exit server. */
export interface ExitServerProc {
  readonly proc: Proc;
  readonly port: number;
  readonly controlPort: number;
  /** `http://127.0.0.1:<port>` */
  readonly publicUrl: string;
  /** `ws://127.0.0.1:<controlPort>` */
  readonly controlUrl: string;
  /** The admin token /status wants (distinct from the client token); undefined if started without one. */
  readonly adminToken: string | undefined;
}

/** Starts an exit server with a fresh admin token (unless `opts.adminToken` is null); ports default to ephemeral; `env` adds to its environment. */
export async function startExitServer(
  token: string,
  args: string[] = [],
  ports: { port?: number; controlPort?: number } = {},
  env: Record<string, string> = {},
  opts: { adminToken?: string | null } = {},
): Promise<ExitServerProc> {
  const adminToken = opts.adminToken === null ? undefined : (opts.adminToken ?? newToken());
  const proc = run(
    'exit-server',
    'exit-server',
    [
      '--port',
      String(ports.port ?? 0),
      '--control-port',
      String(ports.controlPort ?? 0),
      '--bind',
      '127.0.0.1',
      '--token-env',
      'E2E_TOKEN',
      '--admin-token-env',
      'E2E_ADMIN_TOKEN',
      ...args,
    ],
    { ...env, E2E_TOKEN: token, ...(adminToken ? { E2E_ADMIN_TOKEN: adminToken } : {}) },
  );
  const ready = await proc.waitForLog('exit server listening');
  const port = ready.port as number;
  const controlPort = ready.controlPort as number;
  return { proc, port, controlPort, publicUrl: `http://127.0.0.1:${port}`, controlUrl: `ws://127.0.0.1:${controlPort}`, adminToken };
}

/** Starts an edge client and, unless `waitConnected` is false, waits until its tunnel is up. */
export async function startEdgeClient(
  token: string,
  controlUrl: string,
  id: string,
  upstreams: string[],
  opts: { args?: string[]; waitConnected?: boolean; env?: Record<string, string> } = {},
): Promise<Proc> {
  const args = ['--url', controlUrl, '--token-env', 'E2E_TOKEN', '--id', id, '--reconnect-min', '100ms', '--reconnect-max', '1s'];
  for (const u of upstreams) args.push('--upstream', u);
  const proc = run(`client:${id}`, 'edge-client', [...args, ...(opts.args ?? [])], { ...opts.env, E2E_TOKEN: token });
  if (opts.waitConnected !== false) await proc.waitForLog('tunnel established');
  return proc;
}

/** GET /status from the control port, with the server's admin token. */
export async function status(server: ExitServerProc): Promise<{ clients: Array<Record<string, unknown>> } & Record<string, unknown>> {
  if (server.adminToken === undefined) throw new Error('this exit server was started without an admin token: /status answers 403');
  const res = await fetch(`http://127.0.0.1:${server.controlPort}/status`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
  return (await res.json()) as { clients: Array<Record<string, unknown>> };
}

/** Polls /status until `predicate` holds (readiness on state, not on time). */
export async function waitForStatus(
  server: ExitServerProc,
  predicate: (s: { clients: Array<Record<string, unknown>> }) => boolean,
  timeoutMs = 15_000,
): Promise<{ clients: Array<Record<string, unknown>> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(server).catch(() => undefined);
    if (s && predicate(s)) return s;
    if (Date.now() > deadline) throw new Error(`status condition not met within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
