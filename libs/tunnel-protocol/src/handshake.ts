import { HandshakeError } from './errors.ts';
import { PROTOCOL_VERSION } from './frame.ts';
import { DEFAULT_LIMITS, type SessionLimits } from './limits.ts';
import { checkInstanceIds } from './peers.ts';

/** Path on the control port where edge clients upgrade to the tunnel. */
export const TUNNEL_PATH = '/tunnel';
/** Upgrade request header carrying the encoded {@link Hello}. */
export const HELLO_HEADER = 'x-tunnel-hello';
/** 101 response header carrying the encoded {@link Welcome}. */
export const WELCOME_HEADER = 'x-tunnel-welcome';
/** Refusal response header carrying the stable error code. */
export const ERROR_HEADER = 'x-tunnel-error';

/** Bounds on what a hello may declare. */
export const HELLO_LIMITS = Object.freeze({
  /** Encoded hello header, bytes. */
  maxEncodedBytes: 8 * 1024,
  /** Client id length, characters. */
  maxClientIdLength: 128,
  /** Hostnames one client may declare. */
  maxHostnames: 64,
  /** TCP ports one client may declare. */
  maxTcpPorts: 64,
  /** Capabilities one client may declare. */
  maxCapabilities: 32,
  /** Largest balancing weight a client may declare. */
  maxWeight: 1000,
});

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Range of each welcome limit a client accepts, inclusive: what an exit server can be configured
 * with (its --max-frame-bytes, --max-header-bytes, --stream-window, --max-streams-per-client;
 * the ping and idle times are the server's own and only shown). A welcome outside them comes from
 * a broken or hostile server: a 0 frame size would spin the client's sender, a huge head size or
 * window would make it buffer what the server chooses. Sizes in bytes, times in ms.
 */
export const WELCOME_LIMIT_BOUNDS = Object.freeze({
  /** Largest DATA payload, bytes. */
  maxFrameBytes: { min: 1 * KiB, max: 16 * MiB },
  /** Largest encoded head, bytes. */
  maxHeaderBytes: { min: 1 * KiB, max: 1 * MiB },
  /** Per-stream window, bytes. */
  streamWindow: { min: 16 * KiB, max: 16 * MiB },
  /** Concurrent streams, count. */
  maxStreams: { min: 1, max: 65535 },
  /** Server's ping interval, ms. */
  pingIntervalMs: { min: 0, max: 2 ** 31 },
  /** Server's idle timeout, ms. */
  idleTimeoutMs: { min: 0, max: 2 ** 31 },
});

/** What an edge client declares when it connects (rides on the upgrade request). */
export interface Hello {
  /** Protocol version the client speaks ({@link PROTOCOL_VERSION}). */
  readonly version: number;
  /** Stable id of the client (default: its hostname); shown in status and logs. */
  readonly clientId: string;
  /** Hostnames it serves; empty means it is a default upstream that serves every host. */
  readonly hostnames: readonly string[];
  /** Public TCP ports it serves. */
  readonly tcpPorts: readonly number[];
  /** Optional features it supports (unknown ones are ignored). */
  readonly capabilities: readonly string[];
  /**
   * Share of requests relative to the other clients of a route, 1-{@link HELLO_LIMITS}.maxWeight;
   * absent means 1. Clients omit it at 1, so servers older than the field (which refuse unknown
   * fields) still accept them.
   */
  readonly weight?: number;
  /**
   * Random id of the client *process* (16-64 characters of base64url), the same for every session
   * it opens. The server uses it to tell a duplicate from a restart, per client id:
   * - same id and same nonce as a session the server holds, heard from within two ping intervals
   *   or still answering a PING: the new
   *   session is refused, 409 TUN_ERR_DUPLICATE_SESSION (one process, one session per server;
   *   a client dialing through a load balancer may land on the same server twice). If the held
   *   session does not answer (the link died unnoticed) it is closed and the new one accepted;
   * - same id, different nonce: a new process (a restarted device) replaces the old session,
   *   which is sent GOAWAY (reason SESSION_REPLACED) and drained, so the restart does not wait
   *   for the idle timeout.
   * Absent (older clients): neither rule applies.
   */
  readonly nonce?: string;
}

/** What the server answers in the 101 response. */
export interface Welcome {
  /** Protocol version of the server. */
  readonly version: number;
  /** Id of this exit-server instance. */
  readonly instanceId: string;
  /** Id the server gave this session (for correlating logs). */
  readonly sessionId: string;
  /**
   * Instance ids of the other live exit servers this one knows of (peer discovery); absent from
   * servers without it. A client with the `peers` capability attaches to each; later changes
   * arrive in PEERS frames.
   */
  readonly peers?: readonly string[];
  /** Outcome of the TCP ports the hello declared. */
  readonly tcpPorts?: {
    /** Ports this client now serves. */
    readonly accepted: readonly number[];
    /** Ports refused, each with a stable code and the reason. */
    readonly refused: ReadonlyArray<{ readonly port: number; readonly code: string; readonly reason: string }>;
  };
  /** Limits the client must respect. */
  readonly limits: {
    /** Largest DATA payload, bytes. */
    readonly maxFrameBytes: number;
    /** Largest encoded head, bytes. */
    readonly maxHeaderBytes: number;
    /** Per-stream window, bytes. */
    readonly streamWindow: number;
    /** Concurrent streams the server will open at most. */
    readonly maxStreams: number;
    /** Server's ping interval, ms. */
    readonly pingIntervalMs: number;
    /** Server's idle timeout, ms. */
    readonly idleTimeoutMs: number;
  };
}

/** What a client may set of its own session limits; the rest comes from the welcome or the defaults. */
export type ClientOwnLimits = Partial<Pick<SessionLimits, 'pingIntervalMs' | 'idleTimeoutMs' | 'maxQueuedReplies'>>;

/**
 * A client's session limits from the server's welcome: its frame, head, window and stream
 * limits (both ends must start every stream with the same credit: the server's rule), its ping
 * interval and idle timeout unless `own` sets the client's, the defaults for the rest.
 */
export function clientLimits(welcome: Welcome, own: ClientOwnLimits = {}): SessionLimits {
  return {
    ...DEFAULT_LIMITS,
    maxFrameBytes: welcome.limits.maxFrameBytes,
    maxHeaderBytes: welcome.limits.maxHeaderBytes,
    streamWindow: welcome.limits.streamWindow,
    maxStreams: welcome.limits.maxStreams,
    pingIntervalMs: welcome.limits.pingIntervalMs,
    idleTimeoutMs: welcome.limits.idleTimeoutMs,
    ...own,
  };
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const CAPABILITY = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

/** Encodes a JSON value as base64url, safe in an HTTP header. */
function encodeJsonHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeJsonHeader(value: string | undefined, max: number, what: string): Record<string, unknown> {
  const bad = (detail: string) => new HandshakeError('TUN_ERR_BAD_HELLO', 400, `${what}: ${detail}`);
  if (typeof value !== 'string' || value.length === 0) throw bad('missing');
  if (value.length > max) throw bad(`longer than ${max} bytes`);
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw bad('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('not an object');
  return parsed as Record<string, unknown>;
}

/** Encodes a hello for {@link HELLO_HEADER}. */
export function encodeHello(hello: Hello): string {
  return encodeJsonHeader(hello);
}

/** True if `name` is a hostname a client may declare (lower-case, optional `*.` wildcard). */
export function isValidHostname(name: string): boolean {
  return name.length <= 253 && HOSTNAME.test(name);
}

/**
 * Decodes and validates a hello header. Throws {@link HandshakeError}: 426 with
 * TUN_ERR_VERSION_MISMATCH naming both versions, 400 with TUN_ERR_BAD_HELLO for anything else.
 */
export function decodeHello(value: string | undefined, serverVersion = PROTOCOL_VERSION): Hello {
  const raw = decodeJsonHeader(value, HELLO_LIMITS.maxEncodedBytes, 'hello');
  const bad = (detail: string) => new HandshakeError('TUN_ERR_BAD_HELLO', 400, `hello: ${detail}`);
  const allowed = new Set(['version', 'clientId', 'hostnames', 'tcpPorts', 'capabilities', 'weight', 'nonce']);
  for (const key of Object.keys(raw)) if (!allowed.has(key)) throw bad(`unknown field "${key.slice(0, 32)}"`);
  const { version, clientId, hostnames, tcpPorts, capabilities, weight, nonce } = raw;
  if (!Number.isInteger(version) || (version as number) < 1) throw bad('version must be a positive integer');
  if (version !== serverVersion) {
    throw new HandshakeError(
      'TUN_ERR_VERSION_MISMATCH',
      426,
      `client speaks protocol v${version as number}, this exit server speaks v${serverVersion}`,
    );
  }
  if (
    typeof clientId !== 'string' ||
    clientId.length === 0 ||
    clientId.length > HELLO_LIMITS.maxClientIdLength ||
    !CLIENT_ID.test(clientId)
  ) {
    throw bad(`clientId must be 1-${HELLO_LIMITS.maxClientIdLength} characters of [A-Za-z0-9._:-]`);
  }
  const names = stringArray(hostnames, HELLO_LIMITS.maxHostnames, 'hostnames', bad);
  for (const h of names) if (!isValidHostname(h)) throw bad(`invalid hostname "${h.slice(0, 64)}"`);
  if (new Set(names).size !== names.length) throw bad('duplicate hostname');
  if (!Array.isArray(tcpPorts) || tcpPorts.length > HELLO_LIMITS.maxTcpPorts)
    throw bad(`tcpPorts must be an array of at most ${HELLO_LIMITS.maxTcpPorts}`);
  for (const p of tcpPorts) if (!Number.isInteger(p) || p < 1 || p > 65535) throw bad('tcpPorts must hold ports 1-65535');
  if (new Set(tcpPorts).size !== tcpPorts.length) throw bad('duplicate tcp port');
  const caps = stringArray(capabilities, HELLO_LIMITS.maxCapabilities, 'capabilities', bad);
  for (const c of caps) if (!CAPABILITY.test(c)) throw bad('invalid capability');
  if (weight !== undefined && (!Number.isInteger(weight) || (weight as number) < 1 || (weight as number) > HELLO_LIMITS.maxWeight)) {
    throw bad(`weight must be an integer 1-${HELLO_LIMITS.maxWeight}`);
  }
  if (nonce !== undefined && (typeof nonce !== 'string' || !NONCE.test(nonce))) throw bad('nonce must be 16-64 characters of base64url');
  const hello: Hello = { version: version as number, clientId, hostnames: names, tcpPorts: tcpPorts as number[], capabilities: caps };
  return {
    ...hello,
    ...(weight !== undefined ? { weight: weight as number } : {}),
    ...(nonce !== undefined ? { nonce: nonce as string } : {}),
  };
}

function stringArray(value: unknown, max: number, what: string, bad: (d: string) => Error): string[] {
  if (!Array.isArray(value) || value.length > max) throw bad(`${what} must be an array of at most ${max}`);
  for (const v of value) if (typeof v !== 'string') throw bad(`${what} must hold strings`);
  return value as string[];
}

/** Encodes a welcome for {@link WELCOME_HEADER}. */
export function encodeWelcome(welcome: Welcome): string {
  return encodeJsonHeader(welcome);
}

/**
 * Decodes and validates a welcome; throws {@link HandshakeError} TUN_ERR_BAD_WELCOME, also for a
 * limit outside {@link WELCOME_LIMIT_BOUNDS}.
 */
export function decodeWelcome(value: string | undefined): Welcome {
  let raw: Record<string, unknown>;
  const bad = (detail: string) => new HandshakeError('TUN_ERR_BAD_WELCOME', 502, `welcome: ${detail}`);
  try {
    raw = decodeJsonHeader(value, HELLO_LIMITS.maxEncodedBytes, 'welcome');
  } catch (err) {
    throw bad((err as Error).message);
  }
  const limits = raw.limits as Record<string, unknown> | undefined;
  if (raw.version !== PROTOCOL_VERSION) throw bad(`server speaks v${String(raw.version)}, this client speaks v${PROTOCOL_VERSION}`);
  if (typeof raw.instanceId !== 'string' || typeof raw.sessionId !== 'string') throw bad('missing ids');
  if (!limits || typeof limits !== 'object') throw bad('missing limits');
  for (const [k, { min, max }] of Object.entries(WELCOME_LIMIT_BOUNDS)) {
    const v = limits[k];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw bad(`limit ${k} must be an integer ${min}-${max}`);
  }
  if (raw.peers !== undefined && !checkInstanceIds(raw.peers)) throw bad('peers malformed');
  const tcp = raw.tcpPorts as { accepted?: unknown; refused?: unknown } | undefined;
  if (tcp !== undefined) {
    const okAccepted = Array.isArray(tcp.accepted) && tcp.accepted.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535);
    const okRefused =
      Array.isArray(tcp.refused) &&
      tcp.refused.every(
        (r) => r && typeof r === 'object' && Number.isInteger(r.port) && typeof r.code === 'string' && typeof r.reason === 'string',
      );
    if (!okAccepted || !okRefused) throw bad('tcpPorts malformed');
  }
  return raw as unknown as Welcome;
}
