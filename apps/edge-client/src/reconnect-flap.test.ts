import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeClientSchema, loadConfig } from '@tunnel/config';
import { PROTOCOL_VERSION, WELCOME_HEADER, encodeWelcome, type LogFn, type Logger } from '@tunnel/tunnel-protocol';
import { webSocketAccept } from '@tunnel/tunnel-io';
import { waitFor } from '@tunnel/testing';
import { EdgeClient } from './edge-client.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Every line logged, with its fields and message. */
type Line = Record<string, unknown> & { msg?: string };

function recordingLogger(lines: Line[]): Logger {
  const at: LogFn = (obj, msg) => lines.push({ ...obj, msg });
  return { trace: at, debug: at, info: at, warn: at, error: at, child: () => recordingLogger(lines), level: 'info' };
}

/** An exit server that welcomes every client and closes the session at once (crashing on each one). */
async function flappingServer(): Promise<number> {
  const server: Server = createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const welcome = encodeWelcome({
      version: PROTOCOL_VERSION,
      instanceId: 'flappy',
      sessionId: 'flappy-1',
      limits: { maxFrameBytes: 65536, maxHeaderBytes: 16384, streamWindow: 1 << 20, maxStreams: 64, pingIntervalMs: 0, idleTimeoutMs: 0 },
    });
    socket.end(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${webSocketAccept(req.headers['sec-websocket-key'] as string)}\r\n${WELCOME_HEADER}: ${welcome}\r\n\r\n`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

describe('EdgeClient reconnect backoff', () => {
  it('keeps growing against a server that accepts and drops every session at once: a welcome alone is no reason to start over', async () => {
    const port = await flappingServer();
    const lines: Line[] = [];
    const config = loadConfig(edgeClientSchema, {
      argv: ['--url', `ws://127.0.0.1:${port}`, '--upstream', 'http://127.0.0.1:9', '--id', 'pi'],
      env: { TUNNEL_TOKEN: 'reconnect-flap-test-token-0123456789', TUNNEL_RECONNECT_MIN: '20ms', TUNNEL_RECONNECT_MAX: '640ms' },
    });
    const client = new EdgeClient(config, recordingLogger(lines));
    client.start();
    cleanups.push(() => client.stop());
    const lost = () => lines.filter((l) => l.msg === 'tunnel lost').length;
    await waitFor(() => lost() >= 8, { what: 'eight sessions lost' });
    const attempts = lines.filter((l) => l.msg === 'reconnecting after backoff').map((l) => l.attempt as number);
    // Each dial after a session that did not hold counts as another attempt: 1, 2, 3, ...
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(7);
  });
});
