import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, silentLogger } from '@tunnel/tunnel-protocol';
import { ControlPlane } from './control.ts';
import { Router } from './router.ts';

let plane: ControlPlane | undefined;
afterEach(async () => {
  await plane?.app.close();
});

/** Opens a connection, sends `bytes` (maybe nothing) and resolves with how long it lived, ms. */
function lifetime(port: number, bytes: string): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    const s = connect(port, '127.0.0.1', () => bytes && s.write(bytes));
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => resolve(performance.now() - started));
  });
}

describe('--handshake-timeout', () => {
  it.each([
    ['sends nothing', ''],
    ['sends half an upgrade request', 'GET /tunnel HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'],
  ])('closes a control connection that %s within 1 s of the setting, not at node\'s 30 s sweep', async (_what, bytes) => {
    const timeoutMs = 1500;
    plane = new ControlPlane(new Router(), { token: 't'.repeat(32), instanceId: 'i', limits: DEFAULT_LIMITS, handshakeTimeoutMs: timeoutMs, statusExtra: () => ({}) }, silentLogger);
    await plane.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (plane.app.server.address() as AddressInfo).port;
    const lived = await lifetime(port, bytes);
    expect(lived).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(lived).toBeLessThan(timeoutMs + 1000);
  });
});
