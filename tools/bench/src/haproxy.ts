// HAProxy as the scale-out benchmark's load balancer (the ALB's stand-in), configured by the test
// kit's generator (the one the e2e suites use): TCP mode, round-robin, public traffic only to exit
// servers ready on /readyz, control connections to those live on /healthz, a connection refused
// by a leaving server retried on another. A private instance: generated config in a temp dir,
// loopback ports, `haproxy -db` started and stopped by PID among the bench's other children.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { accepts, freePorts, haproxyConfig, haproxyMissing as kitHaproxyMissing, showStat, type Backend } from '@tunnel/testing';
import { startChild, stopChild, type ChildHandle } from './children.ts';
import { until } from './wait.ts';

export type { Backend } from '@tunnel/testing';

/**
 * Undefined when `haproxy` runs, else why not, worded like the bench's other skip messages (which
 * all point to scripts/ci/setup-bench.sh, installing haproxy too).
 */
export function haproxyMissing(): string | undefined {
  return kitHaproxyMissing() === undefined ? undefined : 'haproxy is not installed (Debian package haproxy)';
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

/** Starts HAProxy in front of `backends`. */
export async function startHaproxy(backends: readonly Backend[]): Promise<Haproxy> {
  const [publicPort, controlPort] = await freePorts(2);
  const dir = mkdtempSync(`${os.tmpdir()}/bench-haproxy-`);
  const statsSocket = `${dir}/stats.sock`;
  writeFileSync(`${dir}/haproxy.cfg`, haproxyConfig({ publicPort, controlPort, backends, statsSocket }));
  const proc = startChild('haproxy', 'haproxy', ['-db', '-f', `${dir}/haproxy.cfg`]);
  const stop = async (): Promise<void> => {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const listening = async (): Promise<boolean> => (await accepts(publicPort)) && (await accepts(controlPort));
    await until(Date.now() + 10_000, [proc], listening, 'haproxy listening');
  } catch (err) {
    await stop();
    throw err;
  }
  const everyUp = async (): Promise<boolean> => {
    const s = await showStat(statsSocket);
    return ['exit_public', 'exit_control'].every((b) => backends.every((_, i) => (s[b]?.[`exit${i}`] ?? '').startsWith('UP')));
  };
  const allUp = (deadline: number): Promise<void> => until(deadline, [proc], everyUp, 'every exit server UP in haproxy', 50);
  return { proc, publicPort, controlPort, allUp, stop };
}
