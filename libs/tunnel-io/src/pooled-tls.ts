import type { Socket } from 'node:net';
import { onreadThrough, type ReadBufferPool } from './read-pool.ts';
import type { PooledSocket } from './pooled-socket.ts';
import { warnInternalsChanged, type TcpHandle } from './socket-internals.ts';

/** Node's private per-socket fields behind net.Socket's `onread` option, by their symbols' descriptions. */
const USER_BUFFER_FIELDS = ['kBuffer', 'kBufferCb', 'kBufferGen'] as const;

type UserBufferFields = Record<(typeof USER_BUFFER_FIELDS)[number], symbol>;

/** The `TLSWrap` handle of a TLS socket: a stream handle like TCP's, with user-buffer reads. */
interface TlsHandle extends TcpHandle {
  readStart(): number;
}

/**
 * The symbols of `socket`'s `onread` fields, or why this node does not have them (a change in
 * node: then the socket keeps node's own reads). Present in node 20, 22 and 24.
 */
export function userBufferFields(socket: Socket): UserBufferFields | string {
  const symbols = Object.getOwnPropertySymbols(socket);
  const found: Partial<UserBufferFields> = {};
  for (const name of USER_BUFFER_FIELDS) {
    const sym = symbols.find((s) => s.description === name);
    if (!sym) return `a TLS socket has no ${name} field`;
    found[name] = sym;
  }
  const handle = (socket as unknown as { _handle: unknown })._handle as Record<string, unknown> | null;
  if (handle === null || typeof handle !== 'object') return found as UserBufferFields;
  for (const method of ['readStop', 'readStart', 'useUserBuffer'] as const) {
    if (typeof handle[method] !== 'function') return `the TLS handle has no ${method}()`;
  }
  if (typeof handle.reading !== 'boolean') return 'the TLS handle has no boolean `reading` field';
  return found as UserBufferFields;
}

/**
 * Moves a connected TLS socket onto pooled reads, in place: node's TLS then copies each record's
 * plaintext into a pooled buffer and the socket emits borrowed views of it (see
 * {@link ReadBufferPool}), instead of allocating a buffer per 16 KiB record and pushing it
 * through the socket's stream buffer. That halved what a TLS socket costs to read on this
 * machine (1,190-1,300 down to 680-690 µs per MB received, a 1 GiB transfer). It sets the fields
 * node's `onread` option sets at construction (node offers that option to sockets it dials, not
 * to accepted or upgraded ones) and points the TLS handle at the pool's buffer. Where the fields
 * are not as expected (a process warning says so once), the socket keeps node's own reads.
 * Bytes the socket had already read are returned after `head`: feed them first.
 */
export function readTlsIntoPool(socket: Socket, pool: ReadBufferPool, head: Buffer): PooledSocket {
  const unchanged = { socket, head, pooled: false };
  const fields = userBufferFields(socket);
  if (typeof fields === 'string') {
    warnInternalsChanged(fields);
    return unchanged;
  }
  const own = socket as unknown as Record<symbol, unknown>;
  const handle = (socket as unknown as { _handle: TlsHandle | null })._handle;
  if (!handle || socket.destroyed || own[fields.kBuffer]) return unchanged;
  const held: Buffer[] = [head];
  for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) held.push(c);
  // read() may have started reading again: nothing must arrive before a 'data' listener does.
  handle.readStop();
  handle.reading = false;
  const reader = pool.reader();
  const onread = onreadThrough(reader, (chunk) => socket.emit('data', chunk));
  own[fields.kBufferGen] = onread.buffer;
  own[fields.kBufferCb] = onread.callback;
  const first = onread.buffer();
  own[fields.kBuffer] = first;
  handle.useUserBuffer(first);
  socket.once('close', () => reader.close());
  // A socket already flowing gets no new resume() from its next 'data' listener: restart here.
  if (socket.readableFlowing === true) {
    handle.reading = true;
    handle.readStart();
  }
  return { socket, head: held.length === 1 ? head : Buffer.concat(held), pooled: true };
}
