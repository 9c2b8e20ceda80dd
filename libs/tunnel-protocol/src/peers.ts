import type { Borrowed } from './borrowed.ts';
import { ProtocolError } from './errors.ts';

/**
 * The set of exit-server instances carried by a PEERS frame and by the welcome. Server to client it
 * names every live exit server (the client attaches to each); client to server it names the
 * instances the client holds sessions to (shown in /status). Pure encode/decode, no I/O.
 */
export const PEERS_LIMITS = Object.freeze({
  /** Most instance ids in one set (an exit-server fleet larger than this is not attached to fully). */
  maxInstances: 64,
  /** Longest instance id, characters. */
  maxIdLength: 128,
  /** Largest encoded PEERS payload, bytes (64 ids of 128 characters fit). */
  maxEncodedBytes: 9 * 1024,
});

/** Hello capability: the client understands PEERS frames and attaches to every advertised instance. */
export const PEERS_CAPABILITY = 'peers';

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** True for a string that may name an exit-server instance (the same alphabet as client ids). */
export function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= PEERS_LIMITS.maxIdLength && INSTANCE_ID.test(value);
}

/**
 * Validates a list of instance ids: an array of at most {@link PEERS_LIMITS.maxInstances} valid,
 * distinct ids. Returns undefined when it is not one (the caller names the error).
 */
export function checkInstanceIds(value: unknown): readonly string[] | undefined {
  if (!Array.isArray(value) || value.length > PEERS_LIMITS.maxInstances) return undefined;
  if (!value.every(isInstanceId)) return undefined;
  if (new Set(value).size !== value.length) return undefined;
  return value as string[];
}

/** Encodes a PEERS payload: UTF-8 JSON `{"instances":[...]}` (an object, so fields can be added). */
export function encodePeers(instances: readonly string[]): Buffer {
  const ids = [...new Set(instances)].slice(0, PEERS_LIMITS.maxInstances);
  return Buffer.from(JSON.stringify({ instances: ids }), 'utf8');
}

/** Decodes a PEERS payload; throws {@link ProtocolError} TUN_ERR_PROTOCOL when malformed. */
export function decodePeers(payload: Borrowed): readonly string[] {
  const bad = (detail: string) => new ProtocolError('TUN_ERR_PROTOCOL', `PEERS frame: ${detail}`);
  if (payload.length > PEERS_LIMITS.maxEncodedBytes) throw bad(`${payload.length} bytes, limit ${PEERS_LIMITS.maxEncodedBytes}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('not an object');
  const ids = checkInstanceIds((parsed as { instances?: unknown }).instances);
  if (!ids)
    throw bad(
      `instances must be at most ${PEERS_LIMITS.maxInstances} distinct ids of 1-${PEERS_LIMITS.maxIdLength} characters of [A-Za-z0-9._:-]`,
    );
  return ids;
}
