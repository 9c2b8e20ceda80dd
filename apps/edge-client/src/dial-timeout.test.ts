import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeClientSchema, loadConfig } from '@tunnel/config';
import { silentLogger } from '@tunnel/tunnel-protocol';
import { waitFor } from '@tunnel/testing';
import { EdgeClient } from './edge-client.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A control port that accepts TCP and never answers the upgrade: each dial can only time out. Records when each connection closed (performance.now(), ms). */
async function silentServer(): Promise<{ port: number; closedAt: number[]; accepted: () => number }> {
  const closedAt: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    // Read (and drop) the upgrade request: a paused socket would never see the client's FIN.
    socket.resume();
    socket.on('close', () => closedAt.push(performance.now()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as AddressInfo).port, closedAt, accepted: () => sockets.size };
}

describe('EdgeClient --dial-timeout', () => {
  it('abandons a dial the exit server does not accept within --dial-timeout, and dials again', async () => {
    // GIVEN an exit server that accepts the connection but never answers the WebSocket upgrade
    const silent = await silentServer();
    const config = loadConfig(edgeClientSchema, {
      argv: [
        '--url',
        `ws://127.0.0.1:${silent.port}`,
        '--upstream',
        'http://127.0.0.1:9',
        '--dial-timeout',
        '300ms',
        '--reconnect-min',
        '20ms',
      ],
      env: { TUNNEL_TOKEN: 'dial-timeout-test-token-0123456789' },
    });
    expect(config.dialTimeout).toBe(300);
    // WHEN the client dials it
    const client = new EdgeClient(config, silentLogger);
    // From the dial's start: the server's accept may come late on a loaded host, the timer runs from here.
    const dialedAt = performance.now();
    client.start();
    cleanups.push(() => client.stop());
    // THEN the client cuts the first connection once the dial timeout has passed (not at the 10 s
    // default), and dials again
    await waitFor(() => silent.closedAt.length >= 1 && silent.accepted() >= 2, { what: 'a dial timed out and the next one made' });
    // Timers never fire early; a loaded host may fire them late, hence the wide upper bound.
    expect(silent.closedAt[0] - dialedAt).toBeGreaterThanOrEqual(295);
    expect(silent.closedAt[0] - dialedAt).toBeLessThan(5000);
  });
});
