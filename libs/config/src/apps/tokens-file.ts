import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import { isHostname } from '../kinds.ts';
import { parsePortRange, type PortRange } from './port-range.ts';

/** Bounds on a tokens file, so a mistaken or hostile file cannot exhaust memory. */
export const TOKENS_FILE_LIMITS = Object.freeze({
  /** Largest file read, bytes. */
  maxBytes: 1024 * 1024,
  /** Client entries. */
  maxClients: 10_000,
  /** Tokens (or hashes) per entry: enough for a rotation overlap. */
  maxTokensPerClient: 4,
  /** Hostname patterns per entry. */
  maxHostnames: 64,
  /** Port items per entry. */
  maxTcpPorts: 64,
});

/** One client of a tokens file: who it is and what it may serve. */
export interface ClientGrant {
  /** The client's identity: shown in /status and logs, whatever its hello says. */
  readonly id: string;
  /** SHA-256 digests (32 bytes each) of every token that authenticates as this client (several during a rotation). */
  readonly tokenDigests: readonly Buffer[];
  /**
   * Hostnames it may declare: exact names, `*.example.com` (any name under example.com, and the
   * same wildcard), or `*` (anything, including serving as a default upstream with no hostname).
   */
  readonly hostnames: readonly string[];
  /** TCP ports it may claim, as inclusive ranges (a single port is a range of one). */
  readonly tcpPorts: readonly PortRange[];
  /** Most concurrent streams for this client; undefined: the server's --max-streams-per-client. */
  readonly maxStreams: number | undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** SHA-256 digest of a token, the form in which grants hold tokens. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Parses a tokens file (YAML or JSON: a list of clients, or `{ clients: [...] }`). Each entry:
 * `id`; `token`, `tokens: [old, new]`, or `tokenSha256` (hex, a string or a list); `hostnames`;
 * `tcpPorts` (ports or `FROM-TO`); optional `maxStreams`. Throws {@link ConfigError}
 * (TUN_ERR_CONFIG_FILE) naming the entry and field; never echoes a token. `minTokenLength`:
 * plain tokens shorter than this are refused (hashes cannot be checked).
 */
export function parseTokensFile(text: string, path: string, minTokenLength = 0): readonly ClientGrant[] {
  const fail = (detail: string): never => {
    throw new ConfigError('TUN_ERR_CONFIG_FILE', '--tokens-file', `--tokens-file ${path}: ${detail}`);
  };
  const list = readClientList(text, path, fail);
  const seen: SeenSoFar = { ids: new Set(), digests: new Map() };
  return Object.freeze(list.map((raw, i) => parseGrant(raw, `client ${i + 1}`, minTokenLength, seen, fail)));
}

/** What the entries before this one claimed: ids and tokens must each belong to one client. */
interface SeenSoFar {
  readonly ids: Set<string>;
  /** Hex token digest -> the id of the client it authenticates. */
  readonly digests: Map<string, string>;
}

const ENTRY_KEYS = new Set(['id', 'token', 'tokens', 'tokenSha256', 'hostnames', 'tcpPorts', 'maxStreams']);

/** The file's list of client entries, still unchecked, after the size and syntax checks. */
function readClientList(text: string, path: string, fail: (d: string) => never): unknown[] {
  if (Buffer.byteLength(text) > TOKENS_FILE_LIMITS.maxBytes) fail(`larger than ${TOKENS_FILE_LIMITS.maxBytes} bytes`);
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    fail(`not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`);
  }
  const list = Array.isArray(data)
    ? data
    : isRecord(data) && Array.isArray(data.clients)
      ? data.clients
      : fail('expected a list of clients or { clients: [...] }');
  if (list.length > TOKENS_FILE_LIMITS.maxClients) fail(`more than ${TOKENS_FILE_LIMITS.maxClients} clients`);
  return list;
}

/** One entry as a grant; `where` names it until its id is known. Records its id and tokens in `seen`. */
function parseGrant(raw: unknown, where: string, minTokenLength: number, seen: SeenSoFar, fail: (d: string) => never): ClientGrant {
  if (!isRecord(raw)) return fail(`${where}: expected a mapping`);
  for (const key of Object.keys(raw)) if (!ENTRY_KEYS.has(key)) fail(`${where}: unknown key "${key.slice(0, 32)}"`);
  const id = raw.id;
  if (typeof id !== 'string' || !ID.test(id)) return fail(`${where}: id must be 1-128 characters of [A-Za-z0-9._:-]`);
  if (seen.ids.has(id)) fail(`${where}: id "${id}" is listed twice`);
  seen.ids.add(id);
  const at = `client "${id}"`;
  const tokenDigests = readDigests(raw, at, minTokenLength, fail);
  for (const d of tokenDigests) {
    const other = seen.digests.get(d.toString('hex'));
    if (other !== undefined && other !== id) fail(`${at}: shares a token with client "${other}"; each client needs its own`);
    seen.digests.set(d.toString('hex'), id);
  }
  const hostnames = readHostnames(raw.hostnames, at, fail);
  const tcpPorts = readTcpPorts(raw.tcpPorts, at, fail);
  const maxStreams = raw.maxStreams;
  if (maxStreams !== undefined && !(Number.isInteger(maxStreams) && (maxStreams as number) >= 1 && (maxStreams as number) <= 65535)) {
    fail(`${at}: maxStreams must be an integer 1-65535`);
  }
  return Object.freeze({
    id,
    tokenDigests: Object.freeze(tokenDigests),
    hostnames: Object.freeze(hostnames),
    tcpPorts: Object.freeze(tcpPorts),
    maxStreams: maxStreams as number | undefined,
  });
}

/** Hostname patterns, lower-cased: exact names, `*.` wildcards, or `*`. */
function readHostnames(value: unknown, at: string, fail: (d: string) => never): string[] {
  return list0(value, TOKENS_FILE_LIMITS.maxHostnames, `${at}: hostnames`, fail).map((h) => {
    if (typeof h !== 'string') return fail(`${at}: hostnames must be strings`);
    const name = h.toLowerCase();
    if (name !== '*' && !isHostname(name.startsWith('*.') ? name.slice(2) : name)) fail(`${at}: invalid hostname "${h.slice(0, 64)}"`);
    return name;
  });
}

/** Port items: a port number, a port as a string, or a `FROM-TO` range. */
function readTcpPorts(value: unknown, at: string, fail: (d: string) => never): PortRange[] {
  return list0(value, TOKENS_FILE_LIMITS.maxTcpPorts, `${at}: tcpPorts`, fail).map((p): PortRange => {
    if (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535) return { from: p, to: p };
    if (typeof p === 'string') {
      try {
        return /^\d+$/.test(p.trim()) ? parsePortRange(`${p.trim()}-${p.trim()}`) : parsePortRange(p);
      } catch {
        // reported below
      }
    }
    return fail(`${at}: tcpPorts items must be ports 1-65535 or FROM-TO ranges`);
  });
}

function readDigests(raw: Record<string, unknown>, at: string, minTokenLength: number, fail: (d: string) => never): Buffer[] {
  const given = ['token', 'tokens', 'tokenSha256'].filter((k) => raw[k] !== undefined);
  if (given.length !== 1) fail(`${at}: give exactly one of token, tokens or tokenSha256`);
  const plain = (t: unknown): Buffer => {
    if (typeof t !== 'string' || t.trim() === '') return fail(`${at}: tokens must be non-empty strings`);
    if (t.trim().length < minTokenLength)
      fail(
        `${at}: a token is shorter than ${minTokenLength} characters (use a random one, e.g. openssl rand -base64 32, or --allow-weak-token)`,
      );
    return tokenDigest(t.trim());
  };
  if (raw.token !== undefined) return [plain(raw.token)];
  if (raw.tokens !== undefined) return list1(raw.tokens, `${at}: tokens`, fail).map(plain);
  const hashes = typeof raw.tokenSha256 === 'string' ? [raw.tokenSha256] : list1(raw.tokenSha256, `${at}: tokenSha256`, fail);
  return hashes.map((h) => {
    if (typeof h !== 'string' || !HEX64.test(h)) return fail(`${at}: tokenSha256 must be 64 hex digits (sha256sum of the token)`);
    return Buffer.from(h, 'hex');
  });
}

function list0(value: unknown, max: number, what: string, fail: (d: string) => never): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > max) return fail(`${what} must be a list of at most ${max}`);
  return value;
}

function list1(value: unknown, what: string, fail: (d: string) => never): unknown[] {
  const items = list0(value, TOKENS_FILE_LIMITS.maxTokensPerClient, what, fail);
  if (items.length === 0) fail(`${what} must not be empty`);
  return items;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
