import { isIP, connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ResetCode } from '@tunnel/tunnel-protocol';
import { SINK_SOCKET_HIGH_WATER_MARK, onreadThrough, type ReadBufferPool } from '@tunnel/tunnel-io';

/** Where to dial: a configured upstream or TCP forward target. */
export interface DialTarget {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Dial with TLS and check the certificate against `host` (https upstreams). @default false */
  readonly secure?: boolean;
  /** Give up connecting after this long (TLS handshake included), ms. */
  readonly connectTimeoutMs: number;
  /** Read a plain-TCP target through these pooled buffers (data events then carry borrowed views). */
  readonly readPool?: ReadBufferPool;
}

/** What {@link dialTarget} reports; each is called at most once, and only one of the first two. */
export interface DialHandlers {
  /** The connection is up (after the TLS handshake for secure targets). */
  connected(): void;
  /**
   * It never connected: refused, unreachable, a DNS or TLS error, or the connect timeout.
   * `reset` is the ResetCode to reset the tunnel stream with (UPSTREAM_TIMEOUT for the timeout).
   */
  failed(err: NodeJS.ErrnoException, reset: number): void;
  /** It connected, then broke (a socket error; a plain close is the caller's 'close' listener). */
  lost(err: NodeJS.ErrnoException): void;
}

/**
 * Dials a local target for one tunnel stream, the one way both the HTTP and the TCP proxies do
 * it: no Nagle, half-close kept open (plain TCP), a connect deadline, failures before the
 * connection told apart from failures after it, which the proxies answer differently, and
 * pooled reads for plain TCP when given a pool (node's own `onread`).
 */
export function dialTarget(target: DialTarget, handlers: DialHandlers): Socket {
  const reader = target.secure ? undefined : target.readPool?.reader();
  const socket: Socket = target.secure
    ? tlsConnect({ host: target.host, port: target.port, servername: isIP(target.host) ? undefined : target.host })
    : netConnect({
        host: target.host,
        port: target.port,
        allowHalfOpen: true,
        highWaterMark: SINK_SOCKET_HIGH_WATER_MARK,
        ...(reader && { onread: onreadThrough(reader, (chunk) => socket.emit('data', chunk)) }),
      } as NetConnectOpts); // highWaterMark: a net.Socket option node's types do not list
  if (reader) socket.once('close', () => reader.close());
  socket.setNoDelay(true);
  let connected = false;
  const timer = setTimeout(
    () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
    target.connectTimeoutMs,
  );
  socket.once(target.secure ? 'secureConnect' : 'connect', () => {
    clearTimeout(timer);
    connected = true;
    handlers.connected();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    if (connected) handlers.lost(err);
    else handlers.failed(err, err.code === 'ETIMEDOUT' ? ResetCode.UPSTREAM_TIMEOUT : ResetCode.UPSTREAM_UNREACHABLE);
  });
  socket.once('close', () => clearTimeout(timer));
  return socket;
}
