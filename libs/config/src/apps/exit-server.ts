import { ConfigError } from '../errors.ts';
import { EXIT_SERVER_CONTROL_PORT, EXIT_SERVER_PUBLIC_PORT } from '../default-ports.ts';
import { parseHost } from '../kinds.ts';
import { defineSchema, type ConfigOf } from '../schema.ts';
import { PEER_OPTIONS } from './peers.ts';
import { ADMIN_TOKEN_OPTIONS, readAdminToken, type AdminTokenField } from './admin-token.ts';
import { readStickySecret, type StickySecretField } from './sticky-secret.ts';
import { OBSERVABILITY_OPTIONS } from './observability.ts';
import { MIN_TOKEN_LENGTH } from '../schema.ts';
import { parseTokensFile, tokenDigest, type ClientGrant } from './tokens-file.ts';
import { parsePortRange } from './port-range.ts';
import { READ_BUFFER_OPTIONS } from './read-buffers.ts';
import { PUBLIC_BOUNDS_OPTIONS, SESSION_BOUNDS_OPTIONS } from './public-bounds.ts';
import { PUBLIC_TIMEOUT_OPTIONS } from './public-timeouts.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export { parsePortRange, type PortRange } from './port-range.ts';

/** Parses a cookie name: an RFC 6265 token. */
export function parseCookieName(raw: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(raw))
    throw new Error("expected a cookie name of 1-64 letters, digits and !#$%&'*+-.^_`|~");
  return raw;
}

function parseEnvVarName(raw: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) throw new Error('expected an environment variable name (letters, digits, underscores)');
  return raw;
}

/** Flow-control window bounds shared with the edge client, which must agree on them. */
export const STREAM_WINDOW = { kind: 'bytes', min: 16 * KiB, max: 16 * MiB, default: 1 * MiB } as const;

/** Configuration of the exit server (cloud side: public HTTP ingress + control port). */
export const exitServerSchema = defineSchema({
  name: 'exit-server',
  summary: 'Public side of the tunnel: accepts HTTP requests and forwards them over WebSocket to connected edge clients.',
  token: true,
  options: {
    /** Public HTTP port; 0 = any free port. */
    port: { kind: 'port', allowZero: true, default: EXIT_SERVER_PUBLIC_PORT, description: 'public HTTP port' },
    /** WebSocket control port (also /healthz and the admin endpoints); 0 = any free port. */
    controlPort: {
      kind: 'port',
      allowZero: true,
      default: EXIT_SERVER_CONTROL_PORT,
      description: 'control port where edge clients connect (WebSocket), also /healthz and /status',
    },
    /** Listen address (IP or hostname) for both ports. */
    bind: {
      kind: 'custom',
      placeholder: 'address',
      expected: 'an IP address or hostname',
      parse: parseHost,
      default: '0.0.0.0',
      description: 'address both ports listen on',
    },
    /** Trust the proxy in front: extend its X-Forwarded-For chain, keep its X-Forwarded-Proto/-Port and X-Request-Id instead of replacing or dropping them. */
    trustProxy: {
      kind: 'boolean',
      default: false,
      description:
        "append to an existing X-Forwarded-For chain and log its last address as the client (sent as X-Real-IP), keep the proxy's X-Forwarded-Proto and X-Forwarded-Port and an incoming X-Request-Id; enable behind an ALB",
    },
    /** Wait for the upstream's response head, in milliseconds. */
    requestTimeout: {
      kind: 'duration',
      min: 1,
      default: 30_000,
      description:
        "time to wait for the upstream's response head, from the end of the request (or from when the upstream stops taking its body), before answering 504",
    },
    /** Largest request head, in bytes. */
    maxHeaderBytes: {
      kind: 'bytes',
      min: 1 * KiB,
      max: 1 * MiB,
      default: 16 * KiB,
      description:
        'largest accepted request head (request line + headers), in bytes; more is answered 431, or 414 when the request line alone is over it',
    },
    /** Concurrent streams per edge client (count). */
    maxStreamsPerClient: {
      kind: 'int',
      min: 1,
      max: 65535,
      default: 1024,
      description: 'concurrent requests in flight per edge client; more are answered 503',
    },
    /** Per-stream flow-control window, in bytes. */
    streamWindow: { ...STREAM_WINDOW, description: 'per-stream flow-control window, in bytes' },
    /** Largest frame payload, in bytes. */
    maxFrameBytes: {
      kind: 'bytes',
      min: 1 * KiB,
      max: 16 * MiB,
      default: 64 * KiB,
      description: 'largest tunnel frame payload, in bytes',
    },
    /** Time allowed for authentication after connect, and for closing after a refusal, in milliseconds. */
    handshakeTimeout: {
      kind: 'duration',
      min: 1,
      default: 10_000,
      description: 'time an edge client has to authenticate after connecting, and to close after a refused handshake',
    },
    /** Keep-alive ping interval, in milliseconds. */
    pingInterval: { kind: 'duration', min: 1, default: 10_000, description: 'interval between keep-alive pings' },
    /** Silence after which a client is considered dead, in milliseconds. */
    idleTimeout: {
      kind: 'duration',
      min: 1,
      default: 30_000,
      description: 'a client silent for this long, or reading nothing of what the server sends for this long, is considered dead',
    },
    /**
     * Silence of a client that owes an answer before it is probed, and time the probe is given,
     * in milliseconds; 0 disables. 2 s: a dead device leaves rotation within 4 s of the first
     * request sent to it, while a live one would need 4 s of total silence (several times any
     * sane RTT, and an edge client does little CPU work) to be suspected by mistake.
     */
    unresponsiveAfter: {
      kind: 'duration',
      default: 2_000,
      description:
        'a client that owes an answer (a request, a ping) and is silent this long is probed with a ping; unanswered for as long again, it gets no new requests while another client serves the host, until it is heard from, and the bodiless GET, HEAD and OPTIONS requests it owes are replayed there (0: never)',
    },
    /** Idle time after which a kept-alive public connection is closed, in milliseconds. */
    keepAliveTimeout: {
      kind: 'duration',
      min: 1_000,
      default: 65_000,
      description:
        "close a public (and control-port HTTP) connection idle this long between requests; behind a load balancer, longer than the balancer's idle timeout",
    },
    /** Grace period for in-flight requests on shutdown, in milliseconds. */
    drainTimeout: {
      kind: 'duration',
      default: 30_000,
      description: 'on SIGTERM, time to let in-flight requests finish before closing',
    },
    /** PEM certificate chain path; set together with tlsKey. */
    tlsCert: {
      kind: 'string',
      placeholder: 'path',
      description: 'certificate chain (PEM) to serve the control port as wss:// directly; needs --tls-key',
    },
    /** PEM private key path; set together with tlsCert. */
    tlsKey: {
      kind: 'string',
      placeholder: 'path',
      description: 'private key (PEM) for --tls-cert',
    },
    /** Server name for logs and /status; undefined = app generates one. */
    instanceId: {
      kind: 'string',
      placeholder: 'id',
      description: 'name of this server in logs and /status (default: generated at startup)',
    },
    /** What a balancing decision covers: each request, or a whole public connection. */
    balance: {
      kind: 'enum',
      choices: ['request', 'connection'],
      default: 'request',
      description:
        'request: every request picks its client, even on a kept-alive connection (which keeps one stream per client it used); connection: a public connection stays with one client until its Host changes or the client drains (TCP-proxy semantics)',
    },
    /** How a route picks among its clients. */
    balancePolicy: {
      kind: 'enum',
      choices: ['round-robin', 'least-inflight'],
      default: 'round-robin',
      description:
        "per Host route: round-robin (weighted by each client's --weight) or least-inflight (fewest requests in flight per unit of weight)",
    },
    /** Cookie name for session affinity; unset = no affinity. */
    stickyCookie: {
      kind: 'custom',
      placeholder: 'NAME',
      expected: "a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
      parse: parseCookieName,
      description:
        'session affinity: set cookie NAME on the first response, naming its client (opaque, signed); later requests carrying it go to that client while it is connected',
    },
    /** Env var holding the secret that signs sticky cookies. */
    stickySecretEnv: {
      kind: 'custom',
      placeholder: 'NAME',
      expected: 'an environment variable name (letters, digits, underscores)',
      parse: parseEnvVarName,
      description:
        'environment variable holding the secret (16+ bytes) that signs sticky cookies; give every exit server the same one (default: a random secret per process)',
    },
    /** File holding the secret that signs sticky cookies. */
    stickySecretFile: {
      kind: 'string',
      placeholder: 'path',
      description: 'read the sticky-cookie secret from this file (whitespace trimmed) instead of --sticky-secret-env',
    },
    /** Public TCP ports to open (port numbers). */
    tcpPort: { kind: 'list', of: { kind: 'port' }, default: [], description: 'public TCP ports to open at startup' },
    /** Range of TCP ports edge clients may claim on demand (inclusive bounds). */
    tcpPortRange: {
      kind: 'custom',
      placeholder: 'FROM-TO',
      expected: 'FROM-TO, two ports with FROM <= TO, e.g. 20000-20100',
      parse: parsePortRange,
      description: 'TCP ports edge clients may claim on demand: opened when the first client declares one, closed when the last leaves',
    },
    ...PEER_OPTIONS,
    /** Path of the clients' identities and grants (YAML or JSON); re-read on change and SIGHUP. */
    tokensFile: {
      kind: 'string',
      placeholder: 'path',
      description:
        'isolation mode: clients listed with id, token (or tokenSha256), the hostnames and TCP ports each may serve, optional maxStreams; re-read on change and on SIGHUP (see README, Identities)',
    },
    /** Failed authentications one source address may make per window before it is answered 429 (count). */
    authFailureLimit: {
      kind: 'int',
      min: 0,
      max: 1_000_000,
      default: 10,
      description:
        'failed authentications (tunnel or admin) one source address may make per --auth-failure-window; more are answered 429 with Retry-After (0 = no limit)',
    },
    /** Window of --auth-failure-limit, in milliseconds. */
    authFailureWindow: {
      kind: 'duration',
      min: 1_000,
      max: 24 * 3_600_000,
      default: 60_000,
      description: 'window over which --auth-failure-limit counts failures per address',
    },
    ...ADMIN_TOKEN_OPTIONS,
    ...READ_BUFFER_OPTIONS,
    ...PUBLIC_BOUNDS_OPTIONS,
    ...PUBLIC_TIMEOUT_OPTIONS,
    ...SESSION_BOUNDS_OPTIONS,
    ...OBSERVABILITY_OPTIONS,
  },
  tokenOptionalWhen: (config) => config.tokensFile !== undefined,
  resolveSecrets(config, io): AdminTokenField & TokensFileField & StickySecretField {
    let grants: readonly ClientGrant[] | undefined;
    if (config.tokensFile !== undefined) {
      let text: string;
      try {
        text = io.readFile(config.tokensFile);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new ConfigError('TUN_ERR_CONFIG_FILE', '--tokens-file', `--tokens-file ${config.tokensFile}: cannot read (${reason})`);
      }
      grants = parseTokensFile(text, config.tokensFile, config.allowWeakToken ? 0 : MIN_TOKEN_LENGTH);
    }
    const adminToken = readAdminToken(config, config.tokens ?? [], io);
    if (adminToken !== undefined && grants?.some((g) => g.tokenDigests.some((d) => d.equals(tokenDigest(adminToken))))) {
      throw new ConfigError(
        'TUN_ERR_CONFIG_CONFLICT',
        '--admin-token-env',
        'the admin token equals a token in --tokens-file: that client could read /status; generate a distinct admin token',
      );
    }
    return { adminToken, grants, stickySecret: readStickySecret(config, io) };
  },
  notes: [
    'Trust: with one shared token (--token-env/--token-file) every holder is trusted alike: any of them may serve any hostname or ' +
      'TCP port and joins that pool, receiving part of its traffic (that is how several devices serve one app). To give each ' +
      'device only its own hostnames and ports, list clients in --tokens-file, each with its own token; identity then comes from ' +
      'the token, never from the hello.',
    'Admin endpoints (/status and any other admin page on the control port) need the admin token ' +
      '(env named by --admin-token-env, default TUNNEL_ADMIN_TOKEN, or --admin-token-file) as a bearer token; ' +
      'it must differ from every client token, and a client token never opens them. Without an admin token they answer 403.',
    'Operations: GET /metrics (Prometheus text) and the live status page /ui are admin endpoints on the control port; ' +
      '--metrics-bind ADDR:PORT also serves /metrics without authentication, for a private scrape network. ' +
      '`exit-server status --url http://HOST:8123` prints the connected clients (see its own --help).',
  ],
  validate(config) {
    for (const port of config.tcpPort) {
      if (port === config.port || port === config.controlPort) {
        throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', '--tcp-port', `--tcp-port: port ${port} is already the HTTP or control port`);
      }
    }
    if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
      const missing = config.tlsCert === undefined ? '--tls-cert' : '--tls-key';
      throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', missing, `--tls-cert and --tls-key must be given together (${missing} is missing)`);
    }
    if ((config.stickySecretEnv !== undefined || config.stickySecretFile !== undefined) && config.stickyCookie === undefined) {
      const given = config.stickySecretFile !== undefined ? '--sticky-secret-file' : '--sticky-secret-env';
      throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', given, `${given} signs sticky cookies: it needs --sticky-cookie NAME`);
    }
    if (config.stickySecretEnv !== undefined && config.stickySecretFile !== undefined) {
      throw new ConfigError(
        'TUN_ERR_CONFIG_CONFLICT',
        '--sticky-secret-file',
        '--sticky-secret-file and --sticky-secret-env are alternatives: give one',
      );
    }
    const seen = new Set<number>();
    for (const port of config.tcpPort) {
      if (seen.has(port)) {
        throw new ConfigError('TUN_ERR_CONFIG_CONFLICT', '--tcp-port', `--tcp-port: port ${port} is listed twice`);
      }
      seen.add(port);
    }
  },
});

/** The parsed --tokens-file, added to the config non-enumerable. */
export interface TokensFileField {
  /** Clients with their grants, when --tokens-file is given (as read at start-up). */
  readonly grants: readonly ClientGrant[] | undefined;
}

/**
 * Resolved exit-server configuration. The shared token may be absent when --tokens-file lists
 * the clients (`token` undefined, `tokens` empty).
 */
export type ExitServerConfig = Omit<ConfigOf<typeof exitServerSchema>, 'token'> & { readonly token: string | undefined };
