import { isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import { unbracketHost } from '../ipv6-brackets.ts';
import { isHostname } from '../kinds.ts';
import { defineSchema, type ConfigOf } from '../schema.ts';
import { OBSERVABILITY_OPTIONS } from './observability.ts';
import { READ_BUFFER_OPTIONS } from './read-buffers.ts';
import { SESSION_BOUNDS_OPTIONS } from './public-bounds.ts';

/** Where requests for one public hostname go. */
export interface Upstream {
  /** Lowercased public hostname, possibly `*.`-prefixed for a wildcard; null for the default upstream. */
  readonly hostname: string | null;
  /** Local http:// or https:// base URL requests are forwarded to. */
  readonly url: string;
}

/** True for wss:// URLs and for ws:// to a loopback address (127.0.0.0/8, ::1, localhost). */
export function isSecureOrLoopback(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'wss:') return true;
  const host = unbracketHost(u.hostname).toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** One forwarded TCP port (for the TCP feature). */
export interface TcpForward {
  /** Port opened on the exit server, 1-65535. */
  readonly publicPort: number;
  /** Host the edge client connects to. */
  readonly host: string;
  /** Port the edge client connects to, 1-65535. */
  readonly port: number;
}

const UPSTREAM_EXPECTED = 'HOST=URL or URL (http:// or https://)';

function parseHttpUrl(raw: string): string | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

/** Parses `HOST=URL` or a bare `URL` (the default upstream). */
export function parseUpstream(raw: string): Upstream {
  // A bare URL may contain '=' in its query string, so recognise it before splitting.
  const bare = /^https?:\/\//i.test(raw);
  const eq = raw.indexOf('=');
  const hostname = bare || eq < 0 ? null : raw.slice(0, eq).toLowerCase();
  const url = parseHttpUrl(bare || eq < 0 ? raw : raw.slice(eq + 1));
  if (url !== undefined) {
    const u = new URL(url);
    // Requests keep their own path: the edge client passes bytes through without rewriting them.
    if (u.pathname !== '/' || u.search !== '' || u.hash !== '')
      throw new Error(`an upstream URL takes no path or query (requests keep their own), got "${raw}"`);
  }
  const hostOk = hostname === null || isHostname(hostname.startsWith('*.') ? hostname.slice(2) : hostname);
  if (url === undefined || !hostOk) throw new Error(`expected ${UPSTREAM_EXPECTED}`);
  return { hostname, url };
}

function parsePortNumber(raw: string): number | undefined {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** PROXY protocol header sent before the bytes of a forwarded connection. */
export interface ProxyProtocolSetting {
  /** Public TCP port this applies to. */
  readonly publicPort: number;
  /** Header version: text v1 or binary v2. */
  readonly version: 1 | 2;
}

/** Parses `PORT=v1` or `PORT=v2`. */
export function parseProxyProtocol(raw: string): ProxyProtocolSetting {
  const m = /^(\d+)=v([12])$/.exec(raw.trim());
  const publicPort = m ? parsePortNumber(m[1]) : undefined;
  if (!m || publicPort === undefined) throw new Error('expected PORT=v1 or PORT=v2, e.g. 5432=v2');
  return { publicPort, version: Number(m[2]) as 1 | 2 };
}

/** Parses `PORT=HOST:PORT`; IPv6 hosts go in brackets, e.g. `2222=[::1]:22`. */
export function parseTcpForward(raw: string): TcpForward {
  const m = /^(\d+)=(\[[^\]]+\]|[^:]+):(\d+)$/.exec(raw);
  const publicPort = m ? parsePortNumber(m[1]) : undefined;
  const host = m ? unbracketHost(m[2]) : '';
  const port = m ? parsePortNumber(m[3]) : undefined;
  if (publicPort === undefined || port === undefined || (isIP(host) === 0 && !isHostname(host))) {
    throw new Error('expected PORT=HOST:PORT, e.g. 2222=localhost:22');
  }
  return { publicPort, host, port };
}

/** Most exit servers one edge client holds a session to (`--ha-connections all` means up to this many). */
export const HA_CONNECTIONS_MAX = 16;

/** Parses `all` or a count 1-{@link HA_CONNECTIONS_MAX}. */
export function parseHaConnections(raw: string): number | 'all' {
  const v = raw.trim().toLowerCase();
  if (v === 'all') return 'all';
  const n = /^\d{1,3}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= HA_CONNECTIONS_MAX)) throw new Error(`expected all or a count 1-${HA_CONNECTIONS_MAX}`);
  return n;
}

/** Configuration of the edge client (device side: dials out, forwards to local upstreams). */
export const edgeClientSchema = defineSchema({
  name: 'edge-client',
  summary: 'Device side of the tunnel: dials out to the exit server over WebSocket and forwards requests to local upstreams.',
  token: true,
  options: {
    /** Exit-server control URL (ws: or wss:), normalised href. */
    url: {
      kind: 'url',
      protocols: ['ws:', 'wss:'],
      required: true,
      description: 'control URL of the exit server',
    },
    /** Forwarding targets; at most one default (hostname null). */
    upstream: {
      kind: 'list',
      of: { kind: 'custom', placeholder: 'HOST=URL|URL', expected: UPSTREAM_EXPECTED, parse: parseUpstream },
      default: [],
      description:
        'where to forward HTTP requests: HOST=URL for a hostname (*.example.com for a wildcard), a bare URL for the default (at least one --upstream or --tcp is required)',
    },
    /** Client id; undefined = app uses the OS hostname. */
    id: {
      kind: 'string',
      placeholder: 'id',
      description: 'client id shown in exit-server logs and /status (default: the OS hostname)',
    },
    /** Balancing weight declared in the hello (relative share, 1 = ordinary). */
    weight: {
      kind: 'int',
      min: 1,
      max: 1000,
      default: 1,
      description:
        "this client's share of requests relative to the other clients of a route (round-robin and least-inflight honour it; 2 takes twice a 1's share)",
    },
    /** Allow ws:// (clear text) to an address other than loopback. */
    insecure: {
      kind: 'boolean',
      default: false,
      description:
        'allow a ws:// --url to a non-loopback host: the token and all traffic then travel in clear (refused by default; use wss://)',
    },
    /** Extra trusted CA (PEM) path for wss://. */
    caFile: { kind: 'string', placeholder: 'path', description: 'extra CA certificate (PEM) to trust for wss://' },
    /** Cipher suites offered on wss:// in order (OpenSSL names), or `auto`. */
    tlsCiphers: {
      kind: 'string',
      placeholder: 'list',
      default: 'auto',
      description:
        "cipher suites offered on wss://, in order (an OpenSSL list); auto: ChaCha20-Poly1305 first on CPUs without AES instructions (Raspberry Pi 4), node's default (AES-GCM first) where they exist",
    },
    /** Time the exit server has to accept a dial (TCP connect, TLS, WebSocket upgrade), in milliseconds. */
    dialTimeout: {
      kind: 'duration',
      // Below 100 ms a healthy dial over a WAN would time out; past 10 minutes a dead server would hold the reconnect loop that long.
      min: 100,
      max: 600_000,
      default: 10_000,
      description:
        'time the exit server has to accept a dial (TCP connect, TLS, WebSocket upgrade); past it the dial is abandoned and retried with backoff',
    },
    /** First reconnect delay, in milliseconds. */
    reconnectMin: {
      kind: 'duration',
      min: 1,
      default: 500,
      description: 'first reconnect delay; doubles up to --reconnect-max',
    },
    /** Reconnect delay cap, in milliseconds; >= reconnectMin. */
    reconnectMax: {
      kind: 'duration',
      min: 1,
      default: 30_000,
      description:
        'longest reconnect delay; also the longest Retry-After honoured from a full (503) or rate-limiting (429) exit server, plus up to half of it as jitter',
    },
    /** Keep-alive ping interval, in milliseconds. */
    pingInterval: { kind: 'duration', min: 1, default: 10_000, description: 'interval between keep-alive pings' },
    /** Silence after which the server is considered dead, in milliseconds. */
    idleTimeout: {
      kind: 'duration',
      min: 1,
      default: 30_000,
      description:
        'a server silent for this long, or reading nothing of what the client sends for this long, is considered dead and the client reconnects',
    },
    /** TCP connect timeout towards an upstream, in milliseconds. */
    upstreamConnectTimeout: {
      kind: 'duration',
      min: 1,
      default: 5000,
      description: 'time to wait for a TCP connection to an upstream before answering 502',
    },
    /** Most connections open to one upstream at once (sockets). */
    maxUpstreamSockets: {
      kind: 'int',
      min: 1,
      max: 65535,
      // As many as the exit server's default streams per client: one per public connection.
      default: 1024,
      description:
        'most connections open to one upstream at once (one per public connection routed here); more are refused, and the exit server retries them on another client',
    },
    /** Grace period for in-flight requests on shutdown, in milliseconds. */
    drainTimeout: {
      kind: 'duration',
      default: 30_000,
      description: 'on SIGTERM, time to let in-flight requests finish before disconnecting',
    },
    /** File that exists while the client serves on an exit server; undefined = none. */
    healthFile: {
      kind: 'string',
      placeholder: 'path',
      description:
        'file kept while the client is connected to an exit server and removed while it is not, for container health checks (e.g. test -f PATH)',
    },
    /** TCP port forwards. */
    tcp: {
      kind: 'list',
      of: { kind: 'custom', placeholder: 'PORT=HOST:PORT', expected: 'PORT=HOST:PORT', parse: parseTcpForward },
      default: [],
      description: 'forward exit-server TCP port PORT to HOST:PORT',
    },
    /** PROXY protocol header per forwarded TCP port. */
    proxyProtocol: {
      kind: 'list',
      of: { kind: 'custom', placeholder: 'PORT=v1|v2', expected: 'PORT=v1 or PORT=v2', parse: parseProxyProtocol },
      default: [],
      description: 'send a PROXY protocol v1/v2 header with the public client address before the bytes of TCP port PORT',
    },
    /** Exit servers to hold a session to: all advertised ones (up to HA_CONNECTIONS_MAX), or at most N. */
    haConnections: {
      kind: 'custom',
      placeholder: 'all|N',
      expected: `all or a count 1-${HA_CONNECTIONS_MAX}`,
      parse: parseHaConnections,
      default: 'all',
      description: `exit servers to hold a session to: every instance the servers advertise (all, at most ${HA_CONNECTIONS_MAX}) or at most N; the client dials --url again until it holds one per instance`,
    },
    ...READ_BUFFER_OPTIONS,
    ...SESSION_BOUNDS_OPTIONS,
    ...OBSERVABILITY_OPTIONS,
  },
  validate(config) {
    if (!config.insecure && !isSecureOrLoopback(config.url)) {
      throw new ConfigError(
        'TUN_ERR_CONFIG_INSECURE_URL',
        '--url',
        `--url ${new URL(config.url).origin}: ws:// to a non-loopback host sends the token and all traffic in clear; use wss://, or pass --insecure if the network is trusted`,
      );
    }
    if (config.reconnectMax < config.reconnectMin) {
      throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', '--reconnect-max', '--reconnect-max must be >= --reconnect-min');
    }
    const hosts = new Set<string | null>();
    for (const { hostname } of config.upstream) {
      if (hosts.has(hostname)) {
        const what = hostname === null ? 'more than one default upstream (bare URL)' : `hostname ${hostname} twice`;
        throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', '--upstream', `--upstream: ${what}`);
      }
      hosts.add(hostname);
    }
    if (config.upstream.length === 0 && config.tcp.length === 0) {
      throw new ConfigError('TUN_ERR_CONFIG_REQUIRED', '--upstream', '--upstream: at least one --upstream (or --tcp) is required');
    }
    const ports = new Set<number>();
    for (const { publicPort } of config.tcp) {
      if (ports.has(publicPort)) {
        throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', '--tcp', `--tcp: public port ${publicPort} is listed twice`);
      }
      ports.add(publicPort);
    }
    for (const { publicPort } of config.proxyProtocol) {
      if (!ports.has(publicPort)) {
        throw new ConfigError(
          'TUN_ERR_CONFIG_CONFLICT',
          '--proxy-protocol',
          `--proxy-protocol: port ${publicPort} is not forwarded by any --tcp`,
        );
      }
    }
  },
});

/** Resolved edge-client configuration. */
export type EdgeClientConfig = ConfigOf<typeof edgeClientSchema>;
