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
  ])("closes a control connection that %s within 1 s of the setting, not at node's 30 s sweep", async (_what, bytes) => {
    const timeoutMs = 1500;
    plane = new ControlPlane(
      new Router(),
      { token: 't'.repeat(32), instanceId: 'i', limits: DEFAULT_LIMITS, handshakeTimeoutMs: timeoutMs, statusExtra: () => ({}) },
      silentLogger,
    );
    await plane.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (plane.app.server.address() as AddressInfo).port;
    const lived = await lifetime(port, bytes);
    expect(lived).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(lived).toBeLessThan(timeoutMs + 1000);
  });
});

describe('--max-control-connections', () => {
  it('closes control connections past the cap at once, and takes new ones when one leaves', async () => {
    plane = new ControlPlane(
      new Router(),
      {
        token: 't'.repeat(32),
        instanceId: 'i',
        limits: DEFAULT_LIMITS,
        handshakeTimeoutMs: 10_000,
        maxConnections: 2,
        statusExtra: () => ({}),
      },
      silentLogger,
    );
    await plane.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (plane.app.server.address() as AddressInfo).port;
    const open = () => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      return s;
    };
    const held = [open(), open()];
    await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
    const started = performance.now();
    const third = open();
    await new Promise<void>((r) => third.once('close', () => r()));
    expect(performance.now() - started).toBeLessThan(1000); // closed at once, not at the handshake timeout
    expect(held.every((s) => !s.destroyed)).toBe(true);
    held[0].destroy();
    // Ready once the server has counted the close.
    const count = () => new Promise<number>((r) => plane?.app.server.getConnections((_e, n) => r(n)));
    while ((await count()) !== 1) await new Promise((r) => setImmediate(r));
    const fourth = open();
    const res = await new Promise<string>((resolve) => {
      let text = '';
      fourth.on('data', (c: Buffer) => (text += c.toString()));
      fourth.on('close', () => resolve(text));
      fourth.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(res).toMatch(/^HTTP\/1\.1 (200|503)/);
    held[1].destroy();
  });
});
