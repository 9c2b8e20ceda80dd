// HAProxy as the scale-out benchmark's load balancer (the ALB's stand-in): TCP mode, round-robin,
// public traffic only to exit servers ready on /readyz, control connections to those live on
// /healthz, a connection refused by a leaving server retried on another. A private instance:
// generated config in a temp dir, loopback ports, `haproxy -db` stopped by PID.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import { startChild, stopChild, type ChildHandle } from './children.ts';
import { freePorts } from './ports.ts';
import { canConnect, until } from './wait.ts';

/** One exit server behind the load balancer. */
export interface Backend {
  /** Its public port. */
  readonly port: number;
  /** Its control port. */
  readonly controlPort: number;
}

/** A running HAProxy. */
export interface Haproxy {
  /** The haproxy process. */
  readonly proc: ChildHandle;
  /** The balanced public port. */
  readonly publicPort: number;
  /** The balanced control port (edge clients dial it). */
  readonly controlPort: number;
  /** Resolves once every backend is UP in both backends, by `deadline` (epoch ms). */
  allUp(deadline: number): Promise<void>;
  /** Stops HAProxy and removes its temp dir. */
  stop(): Promise<void>;
}

interface ConfigInput {
  readonly publicPort: number;
  readonly controlPort: number;
  readonly backends: readonly Backend[];
  readonly sock: string;
}

/** Undefined when `haproxy` runs, else why not (for the skip message). */
export function haproxyMissing(): string | undefined {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'haproxy is not installed (Debian package haproxy)' : undefined;
}

function config({ publicPort, controlPort, backends, sock }: ConfigInput): string {
  const servers = (f: (b: Backend, i: number) => string): string => backends.map(f).join('\n');
  return `global
  maxconn 4096
  stats socket ${sock} mode 600 level user
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
${servers((b, i) => `  server exit${i} 127.0.0.1:${b.port} check port ${b.controlPort} inter 200ms fall 1 rise 1`)}
frontend control
  bind 127.0.0.1:${controlPort}
  default_backend exit_control
backend exit_control
  balance roundrobin
  option httpchk GET /healthz
${servers((b, i) => `  server exit${i} 127.0.0.1:${b.controlPort} check inter 200ms fall 1 rise 1`)}
`;
}

/** Server status by backend and server name, from the stats socket's `show stat`. */
function showStat(sock: string): Promise<Record<string, Record<string, string>>> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (text += d));
    c.once('error', reject);
    c.once('end', () => {
      const header = (text.split('\n').find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
      const out: Record<string, Record<string, string>> = {};
      for (const l of text.split('\n')) {
        if (!l || l.startsWith('#')) continue;
        const f = l.split(',');
        const sv = f[header.indexOf('svname')];
        if (sv === 'FRONTEND' || sv === 'BACKEND') continue;
        (out[f[header.indexOf('pxname')]] ??= {})[sv] = f[header.indexOf('status')];
      }
      resolve(out);
    });
    c.end('show stat\n');
  });
}

/** Starts HAProxy in front of `backends`. */
export async function startHaproxy(backends: readonly Backend[]): Promise<Haproxy> {
  const [publicPort, controlPort] = await freePorts(2);
  const dir = mkdtempSync(`${os.tmpdir()}/bench-haproxy-`);
  const sock = `${dir}/stats.sock`;
  writeFileSync(`${dir}/haproxy.cfg`, config({ publicPort, controlPort, backends, sock }));
  const proc = startChild('haproxy', 'haproxy', ['-db', '-f', `${dir}/haproxy.cfg`]);
  const stop = async (): Promise<void> => {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      Date.now() + 10_000,
      [proc],
      async () => (await canConnect(publicPort)) && (await canConnect(controlPort)),
      'haproxy listening',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const allUp = (deadline: number): Promise<void> =>
    until(
      deadline,
      [proc],
      async () => {
        const s = await showStat(sock);
        return ['exit_public', 'exit_control'].every((b) => backends.every((_, i) => (s[b]?.[`exit${i}`] ?? '').startsWith('UP')));
      },
      'every exit server UP in haproxy',
      50,
    );
  return { proc, publicPort, controlPort, allUp, stop };
}
