import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One exit server behind the load balancer. */
export interface Backend {
  /** Public HTTP port. */
  readonly port: number;
  /** Control port (WebSocket, /healthz, /readyz). */
  readonly controlPort: number;
}

/** A running HAProxy: the test's stand-in for the ALB. */
export interface LoadBalancer {
  /** Port of the public frontend. */
  readonly publicPort: number;
  /** Port of the control frontend. */
  readonly controlPort: number;
  /** Status of every server per backend, from the stats socket: `{ exit_public: { exit0: 'UP' } }`. */
  states(): Promise<Record<string, Record<string, string>>>;
  /** Resolves once `server` is UP (or DOWN, `up` false) in both backends. */
  waitFor(server: string, up: boolean, timeoutMs?: number): Promise<void>;
  /** Stops it by PID and removes its config. */
  stop(): Promise<void>;
}

/** A free loopback port (bound then released; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Throws (loudly, with the fix) when Debian's haproxy is not installed. */
export function requireHaproxy(): string {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      "haproxy is not installed: the scale-out e2e needs a real L4 load balancer. Run `sudo bash scripts/ci/setup-docker.sh` (installs Debian's haproxy) or `apt-get install haproxy`.",
    );
  }
  return r.stdout.split('\n')[0];
}

/**
 * The HAProxy configuration: TCP mode, round-robin, in front of the public and the control ports.
 * Public traffic goes only to servers whose /readyz answers 200 (they hold the clients); clients
 * dial only servers whose /healthz answers 200. A connection refused by a server that just went
 * away is retried on another (`retries` + `option redispatch`), as an ALB does.
 */
export function haproxyConfig(
  publicPort: number,
  controlPort: number,
  backends: readonly Backend[],
  statsSocket: string,
  checkIntervalMs = 200,
): string {
  const servers = (f: (b: Backend, i: number) => string) => backends.map(f).join('\n');
  return `global
  maxconn 4096
  stats socket ${statsSocket} mode 600 level user

defaults
  mode tcp
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout check 1s
  retries 3
  # every retry goes to another server: a refused connect must not wait for (or land on) a restarting one
  option redispatch 1

frontend public
  bind 127.0.0.1:${publicPort}
  default_backend exit_public

backend exit_public
  balance roundrobin
  option httpchk GET /readyz
${servers((b, i) => `  server exit${i} 127.0.0.1:${b.port} check port ${b.controlPort} inter ${checkIntervalMs}ms fall 1 rise 1`)}

frontend control
  bind 127.0.0.1:${controlPort}
  default_backend exit_control

backend exit_control
  balance roundrobin
  option httpchk GET /healthz
${servers((b, i) => `  server exit${i} 127.0.0.1:${b.controlPort} check inter ${checkIntervalMs}ms fall 1 rise 1`)}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts `haproxy -db -f FILE` in the foreground; resolves once both frontends accept. */
export async function startHaproxy(backends: readonly Backend[], opts: { checkIntervalMs?: number } = {}): Promise<LoadBalancer> {
  requireHaproxy();
  const [publicPort, controlPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'e2e-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  const sock = join(dir, 'stats.sock');
  writeFileSync(file, haproxyConfig(publicPort, controlPort, backends, sock, opts.checkIntervalMs));
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!((await accepts(publicPort)) && (await accepts(controlPort)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not start:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const states = () => showStat(sock);
  const waitFor = async (server: string, up: boolean, timeoutMs = 15_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await states().catch(() => ({}) as Record<string, Record<string, string>>);
      const ok = ['exit_public', 'exit_control'].every((b) => (s[b]?.[server] ?? '').startsWith(up ? 'UP' : 'DOWN'));
      if (ok) return;
      if (Date.now() > until) throw new Error(`haproxy: ${server} not ${up ? 'UP' : 'DOWN'} within ${timeoutMs} ms: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { publicPort, controlPort, states, waitFor, stop };
}

/** `show stat` on the stats socket, reduced to backend -> server -> status. */
function showStat(sock: string): Promise<Record<string, Record<string, string>>> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (text += d));
    c.once('error', reject);
    c.once('end', () => {
      const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
      const header =
        text
          .split('\n')
          .find((l) => l.startsWith('# '))
          ?.slice(2)
          .split(',') ?? [];
      const col = (name: string) => header.indexOf(name);
      const out: Record<string, Record<string, string>> = {};
      for (const l of lines) {
        const f = l.split(',');
        const px = f[col('pxname')];
        const sv = f[col('svname')];
        if (sv === 'FRONTEND' || sv === 'BACKEND') continue;
        (out[px] ??= {})[sv] = f[col('status')];
      }
      resolve(out);
    });
    c.end('show stat\n');
  });
}
