/** One exit server behind the load balancer. */
export interface Backend {
  /** Public HTTP port. */
  readonly port: number;
  /** Control port (WebSocket, /healthz, /readyz). */
  readonly controlPort: number;
}

/** What {@link haproxyConfig} writes. */
export interface HaproxyConfigOptions {
  /** Loopback port of the public frontend. */
  readonly publicPort: number;
  /** Loopback port of the control frontend. */
  readonly controlPort: number;
  /** The exit servers, named `exit0`, `exit1`, ... in both backends. */
  readonly backends: readonly Backend[];
  /** Path of the stats socket (`show stat`). */
  readonly statsSocket: string;
  /** Milliseconds between two health checks of a server (default 200). */
  readonly checkIntervalMs?: number;
}

/**
 * The HAProxy configuration that stands in for the ALB: TCP mode, round-robin, in front of the
 * public and the control ports. Public traffic goes only to servers whose /readyz answers 200
 * (they hold the clients); clients dial only servers whose /healthz answers 200. A connection
 * refused by a server that just went away is retried on another (`retries` + `option
 * redispatch`), as an ALB does.
 *
 * A server leaves rotation after 2 failed checks, each given 2 s, like the ALB's unhealthy
 * threshold (2) and its shortest check timeout (2 s): with one failure of 1 s, a host at load
 * 12-17 on 2 cores timed out every server's check at once ("backend has no server available")
 * and HAProxy hung up on public requests that the servers would have answered. A draining
 * server answers 503 at once, so it is still out 2 checks (~2 x 200 ms) after its SIGTERM,
 * well inside the tests' --drain-delay.
 */
export function haproxyConfig(opts: HaproxyConfigOptions): string {
  const inter = opts.checkIntervalMs ?? 200;
  const servers = (f: (b: Backend, i: number) => string) => opts.backends.map(f).join('\n');
  return `global
  maxconn 4096
  stats socket ${opts.statsSocket} mode 600 level user

defaults
  mode tcp
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  timeout check 2s
  retries 3
  # every retry goes to another server: a refused connect must not wait for (or land on) a restarting one
  option redispatch 1

frontend public
  bind 127.0.0.1:${opts.publicPort}
  default_backend exit_public

backend exit_public
  balance roundrobin
  option httpchk GET /readyz
${servers((b, i) => `  server exit${i} 127.0.0.1:${b.port} check port ${b.controlPort} inter ${inter}ms fall 2 rise 1`)}

frontend control
  bind 127.0.0.1:${opts.controlPort}
  default_backend exit_control

backend exit_control
  balance roundrobin
  option httpchk GET /healthz
${servers((b, i) => `  server exit${i} 127.0.0.1:${b.controlPort} check inter ${inter}ms fall 2 rise 1`)}
`;
}

/** `show stat` output reduced to backend -> server -> status (`UP`, `DOWN`, `UP 1/2`, ...). */
export function parseShowStat(text: string): Record<string, Record<string, string>> {
  const header = (text.split('\n').find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
  const col = (name: string) => header.indexOf(name);
  const out: Record<string, Record<string, string>> = {};
  for (const l of text.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const f = l.split(',');
    const sv = f[col('svname')];
    if (sv === 'FRONTEND' || sv === 'BACKEND') continue;
    (out[f[col('pxname')]] ??= {})[sv] = f[col('status')];
  }
  return out;
}
