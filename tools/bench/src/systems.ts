// The systems under test, each started from scratch with fresh random ports:
//   direct    autocannon -> upstream
//   nginx     autocannon -> nginx (one proxy hop, keep-alive pool, streaming) -> upstream
//   ssh -R    autocannon -> sshd's forwarded port -> ssh connection -> ssh client -> upstream
//   tunnel    autocannon -> exit server (public port) -> 1 edge client -> upstream
//   tunnel wss  the same with the edge client dialing wss:// (the exit server terminates TLS with a throw-away certificate)
//   tunnel-2  the same with 2 edge clients, balanced per request (the default, --balance request)
//   tunnel-2 conn  2 edge clients balanced per connection (--balance connection), to price per-request balancing
// Systems with `tcp` also expose the upstream's TCP sink (direct: itself; ssh: a second -R;
// tunnel: the exit server's --tcp-port and the edge client's --tcp).
// Every process is a child started here and stopped by its PID.
import { accepts, freePorts, httpRequest, throwAwayCertificate } from '@tunnel/testing';
import type { Bins } from './builds.ts';
import { stopChild, type ChildHandle } from './children.ts';
import type { ProcRef } from './cpu.ts';
import { startNginx, startSsh, type Peers, type SshTools } from './peers.ts';
import { SMALL_BYTES } from './shapes.ts';
import { READY_TIMEOUT_MS, startEdgeClient, startExitServer, startUpstream, status, statusClients, type Upstream } from './tunnel-procs.ts';
import { until } from './wait.ts';

const START_ATTEMPTS = 3;

/** A system under test. */
export interface SystemSpec {
  /** Name in the report (`direct`, `nginx`, `ssh -R`, `tunnel`, `tunnel-2`, `tunnel-2 conn`). */
  readonly name: string;
  /** How it is started. */
  readonly kind: 'direct' | 'nginx' | 'ssh' | 'tunnel';
  /** Number of edge clients (tunnel only). */
  readonly edgeClients: number;
  /** True when it also carries the raw TCP stream. */
  readonly tcp?: boolean;
  /** The external tool it needs (see peers.ts). */
  readonly peer?: 'nginx' | 'ssh';
  /** Extra exit-server flags. */
  readonly serverArgs?: readonly string[];
  /** The edge clients dial wss:// and the exit server terminates TLS (tunnel only). */
  readonly tls?: boolean;
}

/** Systems in their round-1 order. */
export const SYSTEMS: readonly SystemSpec[] = [
  { name: 'direct', kind: 'direct', edgeClients: 0, tcp: true },
  { name: 'nginx', kind: 'nginx', edgeClients: 0, peer: 'nginx' },
  { name: 'ssh -R', kind: 'ssh', edgeClients: 0, tcp: true, peer: 'ssh' },
  { name: 'tunnel', kind: 'tunnel', edgeClients: 1, tcp: true },
  { name: 'tunnel wss', kind: 'tunnel', edgeClients: 1, tls: true },
  { name: 'tunnel-2', kind: 'tunnel', edgeClients: 2 },
  { name: 'tunnel-2 conn', kind: 'tunnel', edgeClients: 2, serverArgs: ['--balance', 'connection'] },
];

/** What starting a system needs. */
export interface RunContext {
  /** The run's client token. */
  readonly token: string;
  /** The run's program copies. */
  readonly bins: Bins;
  /** The peer tools found. */
  readonly peers: Peers;
}

/** A system serving GET /small (and its TCP port accepting connections). */
export interface RunningSystem {
  /** The spec's name. */
  readonly name: string;
  /** Base URL the load generator uses. */
  readonly url: string;
  /** Where the TCP stream goes (systems with `tcp`). */
  readonly tcpPort: number | undefined;
  /** Every port of the system, by role. */
  readonly ports: Record<string, number>;
  /** The upstream process. */
  readonly upstreamProc: ProcRef;
  /** The processes whose CPU time is charged to the system (exit server + edge clients, nginx, sshd tree + ssh). */
  readonly tunnelProcs: readonly ProcRef[];
  /** Names of processes of this system that have exited (should stay empty). */
  deadProcs(): string[];
  /** Stops every process of the system. */
  stop(): Promise<void>;
}

/** What one kind of system adds in front of the upstream. */
interface Front {
  url: string;
  tcpPort: number | undefined;
  tunnelProcs: ProcRef[];
}

/** A system being started: what to stop if anything fails. */
interface Starting {
  readonly procs: ChildHandle[];
  readonly cleanups: (() => void)[];
  customStop?: () => Promise<void>;
  readonly ports: Record<string, number>;
  readonly deadline: number;
}

/**
 * Starts `spec` and waits until it serves GET /small (and accepts TCP on its TCP port).
 * Retries with new ports when a port was taken in between.
 */
export async function startSystem(spec: SystemSpec, ctx: RunContext): Promise<RunningSystem> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(spec, ctx);
    } catch (err) {
      const message = (err as Error).message;
      if (attempt >= START_ATTEMPTS || !/EADDRINUSE|address already in use/i.test(message)) {
        throw new Error(`${spec.name} failed to start: ${message}`, { cause: err });
      }
    }
  }
}

async function stopStarting(s: Starting): Promise<void> {
  try {
    if (s.customStop) await s.customStop();
    // In reverse start order (edge clients, exit server, upstream).
    for (const p of [...s.procs].reverse()) await stopChild(p);
  } finally {
    for (const c of s.cleanups) c();
  }
}

async function startOnce(spec: SystemSpec, ctx: RunContext): Promise<RunningSystem> {
  const s: Starting = { procs: [], cleanups: [], ports: {}, deadline: Date.now() + READY_TIMEOUT_MS };
  try {
    const upstream = await startUpstream(ctx.bins);
    s.procs.push(upstream.proc);
    Object.assign(s.ports, { upstream: upstream.http, upstreamTcp: upstream.tcp });
    const front = await startFront(spec, ctx, s, upstream);
    await firstRequests(spec, s, front);
    return {
      name: spec.name,
      url: front.url,
      tcpPort: front.tcpPort,
      ports: s.ports,
      upstreamProc: { name: upstream.proc.name, pid: upstream.proc.pid },
      tunnelProcs: front.tunnelProcs,
      deadProcs: () => s.procs.filter((p) => p.hasExited()).map((p) => p.name),
      stop: () => stopStarting(s),
    };
  } catch (err) {
    await stopStarting(s);
    throw err;
  }
}

function startFront(spec: SystemSpec, ctx: RunContext, s: Starting, upstream: Upstream): Promise<Front> | Front {
  if (spec.kind === 'nginx') return startNginxFront(ctx, s, upstream);
  if (spec.kind === 'ssh') return startSshFront(ctx.peers.ssh as SshTools, s, upstream);
  if (spec.kind === 'tunnel') return startTunnelFront(spec, ctx, s, upstream);
  return { url: `http://127.0.0.1:${upstream.http}`, tcpPort: spec.tcp ? upstream.tcp : undefined, tunnelProcs: [] };
}

async function startNginxFront(ctx: RunContext, s: Starting, upstream: Upstream): Promise<Front> {
  const [port] = await freePorts(1);
  s.ports.public = port;
  const nginx = startNginx(ctx.peers.nginx.bin as string, { port, upstreamPort: upstream.http });
  s.procs.push(...nginx.procs);
  s.cleanups.push(nginx.cleanup);
  return { url: `http://127.0.0.1:${port}`, tcpPort: undefined, tunnelProcs: nginx.cpuProcs };
}

async function startSshFront(tools: SshTools, s: Starting, upstream: Upstream): Promise<Front> {
  const [sshdPort, port, tcpPub] = await freePorts(3);
  Object.assign(s.ports, { sshd: sshdPort, public: port, publicTcp: tcpPub });
  const forwards = [
    { remote: port, local: upstream.http },
    { remote: tcpPub, local: upstream.tcp },
  ];
  const ssh = startSsh(tools, { sshdPort, forwards });
  s.procs.push(ssh.sshd);
  s.cleanups.push(ssh.cleanup);
  await until(s.deadline, s.procs, () => accepts(sshdPort), `sshd on port ${sshdPort}`);
  const client = ssh.startClient();
  s.procs.push(client);
  s.customStop = () => ssh.stop(client);
  return { url: `http://127.0.0.1:${port}`, tcpPort: tcpPub, tunnelProcs: ssh.cpuProcs(client) };
}

async function startTunnelFront(spec: SystemSpec, ctx: RunContext, s: Starting, upstream: Upstream): Promise<Front> {
  const { bins, token } = ctx;
  const [port, controlPort, tcpPub] = await freePorts(3);
  Object.assign(s.ports, { public: port, control: controlPort, ...(spec.tcp ? { publicTcp: tcpPub } : {}) });
  const tcpPorts = spec.tcp ? [tcpPub] : [];
  const tls = spec.tls ? throwAwayCertificate('tunnel-bench-tls-') : undefined;
  if (tls) s.cleanups.push(tls.remove);
  const serverArgs = [...(spec.serverArgs ?? []), ...(tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : [])];
  s.procs.push(
    await startExitServer({ bins, token, port, controlPort, tcpPorts, extraArgs: serverArgs, deadline: s.deadline, tls: !!tls }),
  );
  const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
  const ids = Array.from({ length: spec.edgeClients }, (_, i) => `bench-${i + 1}`);
  for (const [i, id] of ids.entries()) {
    const extraArgs = spec.tcp && i === 0 ? ['--tcp', `${tcpPub}=127.0.0.1:${upstream.tcp}`] : [];
    s.procs.push(startEdgeClient({ bins, token, controlPort, upstreamUrl, id, extraArgs, caFile: tls?.certFile }));
  }
  const listed = async (): Promise<boolean> => {
    const res = await status(controlPort, token);
    if (res.status !== 200) return false;
    const seen = new Set(statusClients(res).map((c) => c.id));
    return ids.every((id) => seen.has(id));
  };
  // Over TLS the control port speaks https: the first requests through the public port show the client attached.
  if (!tls) await until(s.deadline, s.procs, listed, `${spec.edgeClients} edge client(s) in /status`);
  const tunnelProcs = s.procs.slice(1).map((p) => ({ name: p.name, pid: p.pid }));
  return { url: `http://127.0.0.1:${port}`, tcpPort: spec.tcp ? tcpPub : undefined, tunnelProcs };
}

/** One good request per path through the whole chain (and one per edge client, round-robin). */
async function firstRequests(spec: SystemSpec, s: Starting, front: Front): Promise<void> {
  const small = async (): Promise<boolean> => {
    const res = await httpRequest(`${front.url}/small`, { timeoutMs: 2000 });
    return res.status === 200 && res.body.length === SMALL_BYTES;
  };
  for (let i = 0; i < Math.max(1, spec.edgeClients); i++) await until(s.deadline, s.procs, small, `GET ${front.url}/small`);
  const tcpPort = front.tcpPort;
  if (tcpPort !== undefined) await until(s.deadline, s.procs, () => accepts(tcpPort), `TCP port ${tcpPort}`);
}
