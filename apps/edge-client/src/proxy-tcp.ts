import type { ProxyProtocolSetting, TcpForward } from '@tunnel/config';
import { CONNECTED_REPLY, ResetCode, type Logger, type TcpOpenHead, type TunnelStream } from '@tunnel/tunnel-protocol';
import { pipeToSocket, pipeToStream } from '@tunnel/tunnel-io';
import { dialTarget } from './dial-target.ts';
import type { ProxyOptions } from './proxy-http.ts';
import { proxyV1, proxyV2 } from './proxy-protocol.ts';

/** The TCP forwards of this client, by public port. */
export class TcpForwards {
  private readonly byPort = new Map<number, { forward: TcpForward; proxy: 1 | 2 | undefined }>();

  constructor(forwards: readonly TcpForward[], proxy: readonly ProxyProtocolSetting[]) {
    for (const f of forwards)
      this.byPort.set(f.publicPort, { forward: f, proxy: proxy.find((p) => p.publicPort === f.publicPort)?.version });
  }

  /** Public ports to declare in the hello. */
  get ports(): number[] {
    return [...this.byPort.keys()];
  }

  /** The forward for a public port. */
  get(port: number): { forward: TcpForward; proxy: 1 | 2 | undefined } | undefined {
    return this.byPort.get(port);
  }
}

/**
 * Serves one TCP stream: dials the configured local target (and nothing else), optionally
 * prefixes the PROXY protocol header, then pipes both ways with half-close and reset passed on.
 */
export function proxyTcp(stream: TunnelStream, head: TcpOpenHead, forwards: TcpForwards, opts: ProxyOptions, log: Logger): void {
  const entry = forwards.get(head.port);
  const peer = `${head.remoteAddress}:${head.remotePort}`;
  if (!entry) {
    log.warn({ port: head.port, remote: peer }, 'TCP stream for a port this client does not forward');
    stream.reset(ResetCode.NO_ROUTE);
    return;
  }
  const { forward, proxy } = entry;
  const started = Date.now();
  const socket = dialTarget(
    { host: forward.host, port: forward.port, connectTimeoutMs: opts.connectTimeoutMs, readPool: opts.readPool },
    {
      connected: () => {
        if (proxy) {
          const addrs = {
            sourceAddress: head.remoteAddress,
            sourcePort: head.remotePort,
            destinationAddress: head.localAddress,
            destinationPort: head.port,
          };
          socket.write(proxy === 1 ? proxyV1(addrs) : proxyV2(addrs));
        }
        stream.reply(CONNECTED_REPLY);
        pipeToSocket(stream, socket);
        pipeToStream(socket, stream);
      },
      failed: (err, reset) => {
        log.warn(
          { port: head.port, target: `${forward.host}:${forward.port}`, remote: peer, err: err.code ?? err.message },
          'TCP target unreachable',
        );
        stream.reset(reset);
      },
      lost: () => {
        if (!stream.destroyed) stream.reset(ResetCode.CANCEL);
      },
    },
  );
  socket.on('close', () => {
    if (stream.hasReplied && !stream.destroyed && !(stream.writableFinished && stream.readableEnded)) stream.reset(ResetCode.CANCEL);
    log.info(
      {
        port: head.port,
        remote: peer,
        target: `${forward.host}:${forward.port}`,
        bytesIn: stream.bytesIn,
        bytesOut: stream.bytesOut,
        ms: Date.now() - started,
      },
      'tcp connection',
    );
  });
  stream.on('error', () => {
    if (!socket.destroyed) socket.resetAndDestroy();
  });
}
