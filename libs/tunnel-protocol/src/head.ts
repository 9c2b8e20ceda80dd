import type { Borrowed } from './borrowed.ts';
import { LimitError, ProtocolError } from './errors.ts';
import { HTTP_TOKEN } from './http-token.ts';

/**
 * Opens an HTTP stream: one public connection, routed by its first request. Every request on
 * it, the first included, follows as DATA bytes already re-headed by the exit server
 * (`X-Forwarded-*`, hop-by-hop fields dropped); the upstream's bytes come back as DATA.
 */
export interface HttpRequestHead {
  /** Discriminator. */
  readonly kind: 'http';
  /** Method of the connection's first request (token, e.g. `GET`); for logs. */
  readonly method: string;
  /** Target of the connection's first request, as received; for logs. */
  readonly target: string;
  /** Host the request was addressed to (`Host` header / `:authority`), lower-case, port kept. */
  readonly authority: string;
  /** Address of the public client as seen by the exit server. */
  readonly remoteAddress: string;
  /** Port of the public client as seen by the exit server. */
  readonly remotePort: number;
}

/** A public TCP connection on one of the exit server's TCP ports. */
export interface TcpOpenHead {
  /** Discriminator. */
  readonly kind: 'tcp';
  /** Public port the connection arrived on. */
  readonly port: number;
  /** Address of the public client. */
  readonly remoteAddress: string;
  /** Port of the public client. */
  readonly remotePort: number;
  /** Exit-server address the public client connected to (the PROXY protocol's destination). */
  readonly localAddress: string;
}

/** What an OPEN frame carries. */
export type OpenHead = HttpRequestHead | TcpOpenHead;

/**
 * What a REPLY frame carries. Only TCP streams send one today, to say "connected"
 * ({@link CONNECTED_REPLY}); HTTP responses travel as DATA bytes. Kept because every version-2
 * peer requires a decodable head in a REPLY (see docs/PROTOCOL.md, Versioning).
 */
export interface ResponseHead {
  /** HTTP status code (100-999). */
  readonly status: number;
  /** Reason phrase; empty for the default one. */
  readonly statusMessage: string;
}

/** The REPLY a TCP stream's answerer sends once its target is connected. */
export const CONNECTED_REPLY: ResponseHead = { status: 200, statusMessage: '' };

const KIND_HTTP = 1;
const KIND_TCP = 2;
const MAX_STRINGS = 2 * 1024;

/**
 * Encodes strings (latin1, so bytes survive unchanged) as `u8 kind, u16 count, (u16 len, bytes)*`.
 * The heads end in a list of header pairs that nothing fills any more: with none, the count just
 * stops after the fixed fields, so these are the bytes every version-2 peer expects.
 */
function encodeStrings(kind: number, strings: readonly string[]): Buffer {
  let size = 3;
  for (const s of strings) size += 2 + s.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = kind;
  out.writeUInt16BE(strings.length, 1);
  let offset = 3;
  for (const s of strings) {
    if (s.length > 0xffff) throw new LimitError('TUN_ERR_HEADERS_TOO_LARGE', `a header of ${s.length} bytes`);
    out.writeUInt16BE(s.length, offset);
    offset += 2;
    offset += out.write(s, offset, 'latin1');
  }
  return out;
}

function decodeStrings(buf: Borrowed): { kind: number; strings: string[] } {
  if (buf.length < 3) throw new ProtocolError('TUN_ERR_PROTOCOL', 'head shorter than 3 bytes');
  const kind = buf[0];
  const count = buf.readUInt16BE(1);
  if (count > MAX_STRINGS) throw new ProtocolError('TUN_ERR_PROTOCOL', `head with ${count} fields`);
  const strings = new Array<string>(count);
  let offset = 3;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > buf.length) throw new ProtocolError('TUN_ERR_PROTOCOL', 'head truncated');
    const len = buf.readUInt16BE(offset);
    offset += 2;
    if (offset + len > buf.length) throw new ProtocolError('TUN_ERR_PROTOCOL', 'head truncated');
    strings[i] = buf.toString('latin1', offset, offset + len);
    offset += len;
  }
  if (offset !== buf.length) throw new ProtocolError('TUN_ERR_PROTOCOL', 'trailing bytes after head');
  return { kind, strings };
}

function port(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535 || value === '') {
    throw new ProtocolError('TUN_ERR_PROTOCOL', `bad ${what} "${value.slice(0, 16)}"`);
  }
  return n;
}

/** Encodes an OPEN head. */
export function encodeOpenHead(head: OpenHead): Buffer {
  if (head.kind === 'tcp') {
    return encodeStrings(KIND_TCP, [String(head.port), head.remoteAddress, String(head.remotePort), head.localAddress]);
  }
  return encodeStrings(KIND_HTTP, [head.method, head.target, head.authority, head.remoteAddress, String(head.remotePort)]);
}

/**
 * Decodes and validates an OPEN head; throws {@link ProtocolError} on anything malformed. Header
 * pairs after the HTTP head's fixed fields (a version-2 peer may send them) are ignored.
 */
export function decodeOpenHead(payload: Borrowed): OpenHead {
  const { kind, strings } = decodeStrings(payload);
  if (kind === KIND_TCP) {
    if (strings.length !== 4) throw new ProtocolError('TUN_ERR_PROTOCOL', 'tcp head needs 4 fields');
    return {
      kind: 'tcp',
      port: port(strings[0], 'port'),
      remoteAddress: strings[1],
      remotePort: port(strings[2], 'remote port'),
      localAddress: strings[3],
    };
  }
  if (kind !== KIND_HTTP) throw new ProtocolError('TUN_ERR_PROTOCOL', `unknown head kind ${kind}`);
  if (strings.length < 5 || (strings.length - 5) % 2 !== 0) {
    throw new ProtocolError('TUN_ERR_PROTOCOL', 'http head needs 5 fields and header pairs');
  }
  const [method, target, authority, remoteAddress, remotePort] = strings;
  if (!HTTP_TOKEN.test(method)) throw new ProtocolError('TUN_ERR_PROTOCOL', 'bad method');
  if (target.length === 0 || /[\s\0]/.test(target)) throw new ProtocolError('TUN_ERR_PROTOCOL', 'bad request target');
  return {
    kind: 'http',
    method,
    target,
    authority,
    remoteAddress,
    remotePort: port(remotePort, 'remote port'),
  };
}

/** Encodes a REPLY head. */
export function encodeResponseHead(head: ResponseHead): Buffer {
  return encodeStrings(KIND_HTTP, [String(head.status), head.statusMessage]);
}

/** Decodes and validates a REPLY head; header pairs after the fixed fields are ignored. */
export function decodeResponseHead(payload: Borrowed): ResponseHead {
  const { kind, strings } = decodeStrings(payload);
  if (kind !== KIND_HTTP || strings.length < 2 || strings.length % 2 !== 0) {
    throw new ProtocolError('TUN_ERR_PROTOCOL', 'bad response head');
  }
  const status = Number(strings[0]);
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new ProtocolError('TUN_ERR_PROTOCOL', 'bad response status');
  }
  return { status, statusMessage: strings[1] };
}
