// Lifecycle timings:
//   first request  time from spawning a client (our edge client, or `ssh -R` against a running
//                  sshd) until the first request routed through it answers 200
//   resume         kill -TERM the exit server, start it again on the same ports, time until a
//                  request through it succeeds again (edge client: --reconnect-min 100ms
//                  --reconnect-max 1s)
import { accepts, freePorts, httpRequest } from '@tunnel/testing';
import type { Bins } from './builds.ts';
import { stopChild, type ChildHandle } from './children.ts';
import type { Peers, SshTools } from './peers.ts';
import { startSsh } from './peers.ts';
import type { Progress } from './progress.ts';
import { SMALL_BYTES } from './shapes.ts';
import { startEdgeClient, startExitServer, startUpstream, status, statusClients } from './tunnel-procs.ts';
import { firstLine, until, type Watched } from './wait.ts';

const POLL_MS = 5;
const LIMIT_MS = 20_000;
const sinceMs = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

/** One restart-resume timing, ms since the SIGTERM. */
export interface Resume {
  /** SIGTERM -> first request through the new server succeeds. */
  readonly totalMs: number;
  /** SIGTERM -> old server exited. */
  readonly exitMs: number;
  /** SIGTERM -> new server ready. */
  readonly startMs: number;
  /** New server ready -> first request succeeds. */
  readonly afterStartMs: number;
}

/** The lifecycle section's result. */
export interface LifecycleResult {
  /** Spawn -> first request answered, ms per round, by system. */
  readonly firstRequest: { readonly tunnel: number[]; readonly 'ssh -R': number[] };
  /** One entry per restart round. */
  readonly resume: Resume[];
  /** What went wrong. */
  readonly errors: string[];
}

/** Settings of {@link runLifecycle}. */
export interface LifecycleOptions {
  /** Rounds of each timing. */
  readonly rounds: number;
  /** The run's program copies. */
  readonly bins: Bins;
  /** The run's client token. */
  readonly token: string;
  /** The peer tools found (ssh -R is timed when present). */
  readonly peers: Peers;
  /** The run's progress display. */
  readonly progress: Progress;
}

/** The exit server the tunnel timings run against (replaced on each restart). */
interface Server {
  proc: ChildHandle;
  readonly port: number;
  readonly controlPort: number;
  readonly url: string;
}

/** Polls GET `url` every POLL_MS until it answers 200 with the small body; resolves ms since `t0`. */
async function firstOk(url: string, t0: bigint, procs: readonly Watched[], what: string): Promise<number> {
  const ok = async (): Promise<boolean> => {
    const res = await httpRequest(url, { timeoutMs: 2000 });
    return res.status === 200 && res.body.length === SMALL_BYTES;
  };
  await until(Date.now() + LIMIT_MS, procs, ok, what, POLL_MS);
  return sinceMs(t0);
}

/** Waits until /status lists no client (a stopped client is gone from the routing table). */
async function noClients(controlPort: number, token: string, procs: readonly Watched[]): Promise<void> {
  const none = async (): Promise<boolean> => {
    const res = await status(controlPort, token);
    return res.status === 200 && statusClients(res).length === 0;
  };
  await until(Date.now() + LIMIT_MS, procs, none, 'no clients in /status');
}

/** A fresh edge client per round against one running exit server. */
async function tunnelFirstRequests(o: LifecycleOptions, s: Server, upstreamUrl: string, out: LifecycleResult): Promise<void> {
  const { rounds, bins, token, progress } = o;
  for (let r = 1; r <= rounds; r++) {
    progress.phase(`[lifecycle] tunnel: first request after the edge client starts (${r}/${rounds})`);
    const t0 = process.hrtime.bigint();
    const client = startEdgeClient({ bins, token, controlPort: s.controlPort, upstreamUrl, id: `life-${r}` });
    try {
      out.firstRequest.tunnel.push(await firstOk(s.url, t0, [s.proc, client], 'first request through a new edge client'));
    } catch (err) {
      out.errors.push(`tunnel first request: ${firstLine(err)}`);
    } finally {
      await stopChild(client);
    }
    await noClients(s.controlPort, token, [s.proc]);
    progress.step();
  }
}

/** Restart: one edge client with a short backoff stays up across server restarts. */
async function resumes(o: LifecycleOptions, s: Server, upstreamUrl: string, out: LifecycleResult): Promise<void> {
  const { rounds, bins, token, progress } = o;
  const extraArgs = ['--reconnect-min', '100ms', '--reconnect-max', '1s'];
  const client = startEdgeClient({ bins, token, controlPort: s.controlPort, upstreamUrl, id: 'life-resume', extraArgs });
  try {
    await firstOk(s.url, process.hrtime.bigint(), [s.proc, client], 'first request before the restarts');
    for (let r = 1; r <= rounds; r++) {
      progress.phase(`[lifecycle] tunnel: resume after an exit-server restart (${r}/${rounds})`);
      const t0 = process.hrtime.bigint();
      process.kill(s.proc.pid as number, 'SIGTERM');
      await Promise.race([s.proc.exited, new Promise((res) => setTimeout(res, 10_000))]);
      if (!s.proc.hasExited()) await stopChild(s.proc, 1000);
      const exitMs = sinceMs(t0);
      s.proc = await startExitServer({ bins, token, port: s.port, controlPort: s.controlPort });
      const startMs = sinceMs(t0);
      try {
        const totalMs = await firstOk(s.url, t0, [s.proc, client], 'first request after the restart');
        out.resume.push({ totalMs, exitMs, startMs, afterStartMs: totalMs - startMs });
      } catch (err) {
        out.errors.push(`resume: ${firstLine(err)}`);
      }
      progress.step();
    }
  } finally {
    await stopChild(client);
  }
}

/** ssh -R: a fresh ssh client per round against one running sshd. */
async function sshFirstRequests(o: LifecycleOptions, tools: SshTools, upstreamPort: number, out: LifecycleResult): Promise<void> {
  const { rounds, progress } = o;
  const [sshdPort, pub] = await freePorts(2);
  const ssh = startSsh(tools, { sshdPort, forwards: [{ remote: pub, local: upstreamPort }] });
  try {
    await until(Date.now() + LIMIT_MS, [ssh.sshd], () => accepts(sshdPort), 'sshd');
    for (let r = 1; r <= rounds; r++) {
      progress.phase(`[lifecycle] ssh -R: first request after ssh starts (${r}/${rounds})`);
      const t0 = process.hrtime.bigint();
      const client = ssh.startClient();
      try {
        const what = 'first request through a new ssh -R';
        out.firstRequest['ssh -R'].push(await firstOk(`http://127.0.0.1:${pub}/small`, t0, [ssh.sshd, client], what));
      } catch (err) {
        out.errors.push(`ssh -R first request: ${firstLine(err)}`);
      } finally {
        await stopChild(client);
      }
      // The forwarded port closes once sshd has noticed the client left.
      await until(Date.now() + LIMIT_MS, [ssh.sshd], async () => !(await accepts(pub)), 'ssh -R port closed');
      progress.step();
    }
  } finally {
    await ssh.stop();
    ssh.cleanup();
  }
}

/**
 * `rounds` first-request timings for our tunnel (and for ssh -R when `peers.ssh` is available),
 * then `rounds` restart-resume timings.
 */
export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const out: LifecycleResult = { firstRequest: { tunnel: [], 'ssh -R': [] }, resume: [], errors: [] };
  const upstream = await startUpstream(o.bins);
  const upstreamUrl = `http://127.0.0.1:${upstream.http}`;
  try {
    const [port, controlPort] = await freePorts(2);
    const proc = await startExitServer({ bins: o.bins, token: o.token, port, controlPort });
    const server: Server = { proc, port, controlPort, url: `http://127.0.0.1:${port}/small` };
    try {
      await tunnelFirstRequests(o, server, upstreamUrl, out);
      await resumes(o, server, upstreamUrl, out);
    } finally {
      await stopChild(server.proc);
    }
    if (o.peers.ssh.sshd) await sshFirstRequests(o, o.peers.ssh as SshTools, upstream.http, out);
  } finally {
    await stopChild(upstream.proc);
  }
  return out;
}
