import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Proc, spawnProc } from './proc.ts';
import { newToken } from './token.ts';
import { waitFor } from './wait-for.ts';

/** The apps a test can start from their build. */
export type TunnelApp = 'exit-server' | 'edge-client' | 'sample-app';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Path of an app's built entry; the suites that start apps depend on the apps' build. */
function entry(app: TunnelApp): string {
  const path = `${root}apps/${app}/dist/main.js`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}

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
export function run(name: string, app: TunnelApp, args: string[], env: Record<string, string> = {}): Proc {
  const tunnel = app !== 'sample-app';
  return spawnProc(name, process.execPath, [...(tunnel ? TUNNEL_NODE_FLAGS : []), entry(app), ...args], {
    PATH: process.env.PATH ?? '',
    ...(tunnel ? TUNNEL_TEST_ENV : {}),
    ...env,
  });
}

/** A running sample app. */
export interface SampleApp {
  /** Its process. */
  readonly proc: Proc;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
}

/** Starts a sample app on an ephemeral loopback port; resolves once it listens. */
export async function startSampleApp(name: string): Promise<SampleApp> {
  const proc = run(`app:${name}`, 'sample-app', ['--port', '0', '--bind', '127.0.0.1', '--name', name, '--log-level', 'warn']);
  const line = await proc.waitForLine((l) => l.includes('listening on'));
  const url = /(http:\/\/\S+)/.exec(line)?.[1] ?? '';
  return { proc, url: url.replace(/\/$/, ''), port: Number(new URL(url).port) };
}

/** A running exit server. */
export interface ExitServerProc {
  /** Its process. */
  readonly proc: Proc;
  /** Public HTTP port. */
  readonly port: number;
  /** Control port (WebSocket, /status, /healthz, /readyz). */
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
      ...['--port', String(ports.port ?? 0), '--control-port', String(ports.controlPort ?? 0), '--bind', '127.0.0.1'],
      ...['--token-env', 'E2E_TOKEN', '--admin-token-env', 'E2E_ADMIN_TOKEN'],
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

/** What the exit server's /status answers (the fields tests read are typed loosely). */
export type ServerStatus = { clients: Array<Record<string, unknown>> } & Record<string, unknown>;

/** GET /status from the control port, with the server's admin token. */
export async function status(server: ExitServerProc): Promise<ServerStatus> {
  if (server.adminToken === undefined) throw new Error('this exit server was started without an admin token: /status answers 403');
  const res = await fetch(`http://127.0.0.1:${server.controlPort}/status`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
  return (await res.json()) as ServerStatus;
}

/** Polls /status until `predicate` holds (readiness on state, not on time); resolves with that status. */
export async function waitForStatus(
  server: ExitServerProc,
  predicate: (s: ServerStatus) => boolean,
  timeoutMs = 15_000,
): Promise<ServerStatus> {
  let last: ServerStatus | undefined;
  return waitFor(
    async () => {
      last = await status(server).catch(() => undefined);
      return last && predicate(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 25, what: () => `status condition (last status: ${JSON.stringify(last)})` },
  );
}
