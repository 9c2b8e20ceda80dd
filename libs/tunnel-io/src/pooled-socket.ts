import { Socket } from 'node:net';
import { onreadThrough, type ReadBufferPool } from './read-pool.ts';
import { isTlsSocket } from './coalesced-tls.ts';
import { readTlsIntoPool } from './pooled-tls.ts';
import { adoptionBlocker, warnInternalsChanged, type SocketInternals } from './socket-internals.ts';

/** A socket that now reads through a {@link ReadBufferPool}. */
export interface PooledSocket {
  /** The socket to use from here on (a new object over the same connection when adopted). */
  readonly socket: Socket;
  /** `head` followed by what the old socket had read and nobody consumed: feed these first. */
  readonly head: Buffer;
  /** True when reads now go through the pool; false without a pool or when the socket could not be adopted (a write in flight, a node whose internals changed). */
  readonly pooled: boolean;
}

/**
 * Moves a connected plain-TCP socket onto pooled reads: its data events then carry borrowed
 * views of pooled buffers (see {@link ReadBufferPool}) instead of a fresh 64 KiB allocation per
 * read. Node offers that (`onread`) only to sockets it creates, and the exit server's sockets are
 * accepted, so the connection's TCP handle is moved into a new `net.Socket` created with
 * `onread`. That touches node internals (`_handle`, `_server`, `readStop`, `manualStart`);
 * where they are not as expected (a node that changed them: then a process warning says so once,
 * see {@link adoptionBlocker}), or when there is no pool (pooled reads are off), the socket is
 * returned unchanged and reads as before (node's copying reads). A TLS socket is switched in
 * place instead ({@link readTlsIntoPool}). Attach the 'data' listener in the same tick.
 */
export function readIntoPool(socket: Socket, pool: ReadBufferPool | undefined, head: Buffer = Buffer.alloc(0)): PooledSocket {
  const internals = socket as unknown as SocketInternals;
  const handle = internals._handle;
  const unchanged = { socket, head, pooled: false };
  if (pool && isTlsSocket(socket)) return readTlsIntoPool(socket, pool, head);
  if (!pool || socket.constructor !== Socket) return unchanged;
  const blocker = adoptionBlocker(socket);
  if (blocker) {
    warnInternalsChanged(blocker);
    return unchanged;
  }
  if (!handle) return unchanged;
  // A write still in flight would complete on the new object, which never counted it.
  if (socket.destroyed || socket.connecting || socket.writableLength > 0) return unchanged;
  handle.readStop();
  handle.reading = false;
  const held: Buffer[] = [head];
  for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) held.push(c);
  // The old object must never touch the handle again (its destroy would close the connection),
  // and the server's count of open connections now ends with the new one.
  internals._handle = null;
  const server = internals._server;
  internals._server = null;
  const reader = pool.reader();
  const adopted: Socket = new Socket({
    handle,
    allowHalfOpen: socket.allowHalfOpen,
    highWaterMark: socket.writableHighWaterMark,
    // Reading starts with the first 'data' listener, so nothing is emitted to nobody.
    manualStart: true,
    onread: onreadThrough(reader, (chunk) => adopted.emit('data', chunk)),
  } as ConstructorParameters<typeof Socket>[0]);
  (adopted as unknown as SocketInternals)._server = server;
  adopted.on('close', () => reader.close());
  return { socket: adopted, head: held.length === 1 ? head : Buffer.concat(held), pooled: true };
}

/**
 * {@link readIntoPool} for a socket just accepted, before anyone read it: returns the socket to
 * use from here on. Should the old socket have read anything, it is put back in front.
 */
export function readAcceptedIntoPool(socket: Socket, pool: ReadBufferPool | undefined): Socket {
  const pooled = readIntoPool(socket, pool);
  if (pooled.head.length > 0) pooled.socket.unshift(pooled.head);
  return pooled.socket;
}
