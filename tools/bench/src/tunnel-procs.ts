// Starting our own processes the way every section of the bench needs them: the upstream, an
// exit server (ready on /status) and an edge client, with the run's token and the node flags and
// malloc setting the apps' images ship with.
import { accepts, httpRequest, type SimpleResponse } from '@tunnel/testing';
import type { Bins } from './builds.ts';
import { startChild, stopChild, type ChildHandle } from './children.ts';
import { until } from './wait.ts';

/** How long a system may take to start and serve its first request, ms (a loaded 2-core host took over 15 s to start an exit server). */
export const READY_TIMEOUT_MS = 30_000;

/**
 * The node flags the exit server's and edge client's images run with (their Dockerfiles'
 * ENTRYPOINT): a 1 MiB young generation, see the README's Performance section.
 */
export const TUNNEL_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', ...profileFlags(process.env.BENCH_CPU_PROF_DIR)];

/**
 * With BENCH_CPU_PROF_DIR set, every exit server and edge client writes a V8 CPU profile there
 * when it exits (`--cpu-prof` is refused in NODE_OPTIONS), named by its PID.
 */
function profileFlags(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'] : [];
}

/** A running upstream and its ports. */
export interface Upstream {
  /** The upstream process. */
  readonly proc: ChildHandle;
  /** Its HTTP port. */
  readonly http: number;
  /** Its TCP sink port. */
  readonly tcp: number;
}

/** Settings of {@link startExitServer}. */
export interface ExitServerOptions {
  /** The run's program copies. */
  readonly bins: Bins;
  /** The run's client token. */
  readonly token: string;
  /** Public port. */
  readonly port: number;
  /** Control port. */
  readonly controlPort: number;
  /** Public TCP ports (`--tcp-port`). */
  readonly tcpPorts?: readonly number[];
  /** More flags. */
  readonly extraArgs?: readonly string[];
  /** Raise the soft open-files limit to this (through `sh -c 'ulimit -n ..; exec ..'`, so the PID is the server's). */
  readonly nofile?: number;
  /** Process name for messages. */
  readonly name?: string;
  /** Ready by this time (epoch ms). */
  readonly deadline?: number;
  /** The control port serves TLS (`--tls-cert` in extraArgs): ready once it accepts connections. */
  readonly tls?: boolean;
  /** Node flags instead of {@link TUNNEL_NODE_FLAGS} (to A/B them). */
  readonly nodeFlags?: readonly string[];
}

/** Settings of {@link startEdgeClient}. */
export interface EdgeClientOptions {
  /** The run's program copies. */
  readonly bins: Bins;
  /** The run's client token. */
  readonly token: string;
  /** The exit server's (or load balancer's) control port. */
  readonly controlPort: number;
  /** `--upstream` URL, if any. */
  readonly upstreamUrl?: string;
  /** `--id`. */
  readonly id: string;
  /** More flags (e.g. `--tcp`, `--reconnect-min`). */
  readonly extraArgs?: readonly string[];
  /** Dial wss://localhost trusting this certificate (PEM file); plain ws:// without it. */
  readonly caFile?: string;
  /** Node flags instead of {@link TUNNEL_NODE_FLAGS} (to A/B them). */
  readonly nodeFlags?: readonly string[];
}

/** Starts the upstream child; resolves it and its ports. */
export async function startUpstream(bins: Bins): Promise<Upstream> {
  const proc = startChild('upstream', process.execPath, [bins.upstream], { stdin: 'pipe' });
  try {
    const line = await proc.waitForLine((l) => l.trim().startsWith('{'), READY_TIMEOUT_MS);
    const { http, tcp } = JSON.parse(line) as { http: number; tcp: number };
    return { proc, http, tcp };
  } catch (err) {
    await stopChild(proc);
    throw err;
  }
}

/**
 * The environment for the apps: ours minus any TUNNEL_* settings, plus the run's token and the
 * malloc setting the apps' images ship with (MALLOC_TRIM_THRESHOLD_, see the README).
 */
export function childEnv(token: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TUNNEL_')));
  env.TUNNEL_TOKEN = token;
  env.MALLOC_TRIM_THRESHOLD_ ??= '67108864';
  return env;
}

/**
 * The admin token of a run's exit servers (opens /status): derived from the run's client token
 * so callers keep passing one token, yet distinct from it, and given to exit servers only.
 */
export function benchAdminToken(token: string): string {
  return `${token}-admin`;
}

/** The environment of a run's exit servers: {@link childEnv} plus the admin token. */
export function serverEnv(token: string): NodeJS.ProcessEnv {
  return { ...childEnv(token), TUNNEL_ADMIN_TOKEN: benchAdminToken(token) };
}

function exitServerArgs(o: ExitServerOptions): string[] {
  return [
    ...(o.nodeFlags ?? TUNNEL_NODE_FLAGS),
    o.bins['exit-server'],
    ...['--port', `${o.port}`, '--control-port', `${o.controlPort}`, '--bind', '127.0.0.1'],
    ...['--token-env', 'TUNNEL_TOKEN', '--log-level', 'warn', '--access-log', 'off'],
    ...['--instance-id', 'bench', '--drain-timeout', '1s'],
    ...(o.tcpPorts ?? []).flatMap((p) => ['--tcp-port', `${p}`]),
    ...(o.extraArgs ?? []),
  ];
}

/** Starts an exit server on 127.0.0.1 and waits until /status answers. */
export async function startExitServer(o: ExitServerOptions): Promise<ChildHandle> {
  const { token, controlPort, nofile, name = 'exit-server', deadline = Date.now() + READY_TIMEOUT_MS } = o;
  const args = exitServerArgs(o);
  const env = serverEnv(token);
  const proc = nofile
    ? startChild(
        name,
        '/bin/sh',
        ['-c', `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...args],
        { env },
      )
    : startChild(name, process.execPath, args, { env });
  try {
    const ready = o.tls ? () => accepts(controlPort) : async () => (await status(controlPort, token)).status === 200;
    await until(deadline, [proc], ready, o.tls ? 'exit server control port' : 'exit server /status');
  } catch (err) {
    await stopChild(proc);
    throw err;
  }
  return proc;
}

/** GET /status on the control port, with the admin token of the run whose client token is `token`. */
export function status(controlPort: number, token: string, timeoutMs = 2000): Promise<SimpleResponse> {
  return httpRequest(`http://127.0.0.1:${controlPort}/status`, {
    headers: { authorization: `Bearer ${benchAdminToken(token)}` },
    timeoutMs,
  });
}

/** One client as /status lists it. */
export interface StatusClient {
  /** The client's `--id`. */
  readonly id: string;
  /** True while it drains. */
  readonly draining?: boolean;
}

/** The clients a /status answer lists. */
export function statusClients(res: SimpleResponse): StatusClient[] {
  return (JSON.parse(res.body) as { clients: StatusClient[] }).clients;
}

/** Starts one real edge client. */
export function startEdgeClient(o: EdgeClientOptions): ChildHandle {
  const { bins, token, controlPort, upstreamUrl, id, extraArgs = [], caFile } = o;
  const args = [
    ...(o.nodeFlags ?? TUNNEL_NODE_FLAGS),
    bins['edge-client'],
    ...(caFile ? ['--url', `wss://localhost:${controlPort}`, '--ca-file', caFile] : ['--url', `ws://127.0.0.1:${controlPort}`]),
    ...(upstreamUrl ? ['--upstream', upstreamUrl] : []),
    ...['--token-env', 'TUNNEL_TOKEN', '--id', id, '--log-level', 'warn', '--access-log', 'off', '--drain-timeout', '1s'],
    ...extraArgs,
  ];
  return startChild(`edge-client-${id}`, process.execPath, args, { env: childEnv(token) });
}
