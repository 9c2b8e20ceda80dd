import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts } from './accepts.ts';
import { freePorts } from './free-port.ts';
import { haproxyConfig, parseShowStat, type Backend } from './haproxy-config.ts';
import { spawnProc, type Proc } from './proc.ts';
import { waitFor } from './wait-for.ts';

/** A running HAProxy: the tests' and the bench's stand-in for the ALB. */
export interface LoadBalancer {
  /** The haproxy process. */
  readonly proc: Proc;
  /** Port of the public frontend. */
  readonly publicPort: number;
  /** Port of the control frontend. */
  readonly controlPort: number;
  /** Status of every server per backend, from the stats socket: `{ exit_public: { exit0: 'UP' } }`. */
  states(): Promise<Record<string, Record<string, string>>>;
  /** Resolves once `server` (`exit0`, ...) is UP (or DOWN, `up` false) in both backends. */
  waitFor(server: string, up: boolean, timeoutMs?: number): Promise<void>;
  /** Stops it by PID and removes its config. */
  stop(): Promise<void>;
}

/** Why `haproxy` cannot run here (with the fix), or undefined when it can. */
export function haproxyMissing(): string | undefined {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (!r.error && r.status === 0) return undefined;
  return "haproxy is not installed: run `sudo bash scripts/ci/setup-docker.sh` (installs Debian's haproxy) or `apt-get install haproxy`";
}

/** Throws (loudly, with the fix) when Debian's haproxy is not installed. */
export function requireHaproxy(): void {
  const missing = haproxyMissing();
  if (missing) throw new Error(`${missing}. The scale-out tests need a real L4 load balancer.`);
}

/** Starts `haproxy -db -f FILE` in the foreground in front of `backends`; resolves once both frontends accept. */
export async function startHaproxy(backends: readonly Backend[], opts: { checkIntervalMs?: number } = {}): Promise<LoadBalancer> {
  requireHaproxy();
  const [publicPort, controlPort] = await freePorts(2);
  const dir = mkdtempSync(join(tmpdir(), 'tunnel-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  const statsSocket = join(dir, 'stats.sock');
  writeFileSync(file, haproxyConfig({ publicPort, controlPort, backends, statsSocket, checkIntervalMs: opts.checkIntervalMs }));
  const proc = spawnProc('haproxy', 'haproxy', ['-db', '-f', file], { PATH: process.env.PATH ?? '' });
  const stop = async () => {
    await proc.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`haproxy exited:\n${proc.lines.join('\n')}`);
        return (await accepts(publicPort)) && (await accepts(controlPort));
      },
      { timeoutMs: 10_000, intervalMs: 50, what: () => `haproxy listening (output: ${proc.lines.join('\n')})` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const states = () => showStat(statsSocket);
  const waitForServer = async (server: string, up: boolean, timeoutMs = 15_000) => {
    let last: Record<string, Record<string, string>> = {};
    await waitFor(
      async () => {
        last = await states().catch(() => ({}));
        return ['exit_public', 'exit_control'].every((b) => (last[b]?.[server] ?? '').startsWith(up ? 'UP' : 'DOWN'));
      },
      { timeoutMs, intervalMs: 50, what: () => `haproxy: ${server} ${up ? 'UP' : 'DOWN'} (${JSON.stringify(last)})` },
    );
  };
  return { proc, publicPort, controlPort, states, waitFor: waitForServer, stop };
}

/** `show stat` on the stats socket, reduced to backend -> server -> status. */
export function showStat(sock: string): Promise<Record<string, Record<string, string>>> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (text += d));
    c.once('error', reject);
    c.once('end', () => resolve(parseShowStat(text)));
    c.end('show stat\n');
  });
}
