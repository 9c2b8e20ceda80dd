import { connect, type AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, silentLogger } from '@tunnel/tunnel-protocol';
import { throwAwayCertificate } from '@tunnel/testing';
import { ControlPlane, type ControlOptions } from './control.ts';
import { Router } from './router.ts';

let plane: ControlPlane | undefined;
afterEach(async () => {
  await plane?.app.close();
});

/** A control plane with the tests' token and limits plus `extra`, listening on a free port. */
async function listeningPlane(extra: Partial<ControlOptions>): Promise<{ port: number; listening: ControlPlane }> {
  const listening = new ControlPlane(
    new Router(),
    { token: 't'.repeat(32), instanceId: 'i', limits: DEFAULT_LIMITS, handshakeTimeoutMs: 10_000, statusExtra: () => ({}), ...extra },
    silentLogger,
  );
  plane = listening;
  await listening.app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (listening.app.server.address() as AddressInfo).port, listening };
}

/** Opens a connection, sends `bytes` (maybe nothing) and resolves with how long it lived, ms. */
function lifetime(port: number, bytes: string, encoding: BufferEncoding = 'utf8'): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    const s = connect(port, '127.0.0.1', () => bytes && s.write(bytes, encoding));
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
    const { port } = await listeningPlane({ handshakeTimeoutMs: timeoutMs });
    const lived = await lifetime(port, bytes);
    expect(lived).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(lived).toBeLessThan(timeoutMs + 1000);
  });
});

describe('--handshake-timeout with --tls-cert (wss://)', () => {
  const certificate = throwAwayCertificate();
  afterAll(() => certificate.remove());

  it.each([
    ['sends nothing', Buffer.alloc(0)],
    // A TLS record header announcing an 80-byte ClientHello that never comes.
    ['sends half a ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50])],
  ])("closes a control connection that %s within 1 s of the setting, not at node's 120 s TLS handshake timeout", async (_what, bytes) => {
    const timeoutMs = 1500;
    const { port } = await listeningPlane({ handshakeTimeoutMs: timeoutMs, tls: { cert: certificate.cert, key: certificate.key } });
    const lived = await lifetime(port, bytes.toString('latin1'), 'latin1');
    expect(lived).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(lived).toBeLessThan(timeoutMs + 1000);
  });
});

/** A control plane capped at `maxConnections` sessions with `httpReserve` more sockets, listening. */
async function cappedPlane(maxConnections: number, httpReserve: number): Promise<{ port: number; capped: ControlPlane }> {
  const { port, listening } = await listeningPlane({ maxConnections, httpReserve });
  return { port, capped: listening };
}

/** Sends one raw request on a fresh connection and resolves with the whole answer. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = connect(port, '127.0.0.1', () => s.write(request));
    s.on('error', () => {});
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.on('close', () => resolve(text));
  });
}

const UPGRADE =
  'GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer wrong\r\n\r\n';

describe('--max-control-connections', () => {
  it('closes sockets past the cap plus the HTTP reserve at once, and takes new ones when one leaves', async () => {
    const { port } = await cappedPlane(2, 1);
    const open = () => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      return s;
    };
    const held = [open(), open(), open()];
    await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
    const started = performance.now();
    const fourth = open();
    await new Promise<void>((r) => fourth.once('close', () => r()));
    expect(performance.now() - started).toBeLessThan(1000); // closed at once, not at the handshake timeout
    expect(held.every((s) => !s.destroyed)).toBe(true);
    held[0].destroy();
    // Ready once the server has counted the close.
    const count = () => new Promise<number>((r) => plane?.app.server.getConnections((_e, n) => r(n)));
    while ((await count()) !== 2) await new Promise((r) => setImmediate(r));
    expect(await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
    for (const s of held) s.destroy();
  });

  it('answers an upgrade past the session cap 503 with Retry-After and TUN_ERR_SESSION_CAP, while /healthz still answers', async () => {
    const { port, capped } = await cappedPlane(2, 1);
    const slots = capped.slots;
    const releases = [slots.take(), slots.take()];
    const refused = await exchange(port, UPGRADE);
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toMatch(/\r\nx-tunnel-error: TUN_ERR_SESSION_CAP\r\n/i);
    expect(refused).toMatch(/\r\nRetry-After: 5\r\n/);
    expect(slots.refused).toBe(1);
    expect(await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
    // A freed slot lets the next upgrade through to the token check (wrong token here: 401).
    releases[0]?.();
    expect(await exchange(port, UPGRADE)).toMatch(/^HTTP\/1\.1 401 /);
    // The refused socket gives its slot back when it closes.
    while (slots.open !== 1) await new Promise((r) => setImmediate(r));
  });

  it.each([
    ['reads the refusal but never closes', true],
    ['never reads the refusal', false],
  ])('cuts a refused upgrade whose peer %s at --handshake-timeout, and frees its slot', async (_what, reads) => {
    const timeoutMs = 1000;
    const { port, listening } = await listeningPlane({ handshakeTimeoutMs: timeoutMs, maxConnections: 1 });
    const slots = listening.slots;
    const held = () => slots.open;
    // allowHalfOpen: the peer keeps its half open after our FIN, as a hostile one would.
    const started = performance.now();
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.write(UPGRADE));
    s.on('error', () => {});
    let answer = '';
    if (reads) s.on('data', (c: Buffer) => (answer += c.toString()));
    await new Promise<void>((r) => s.once('connect', () => r()));
    while (held() !== 1) await new Promise((r) => setImmediate(r));
    // The server lets go of its end (the peer, half-open, only learns when it writes again).
    while (held() !== 0) await new Promise((r) => setImmediate(r));
    expect(performance.now() - started).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(performance.now() - started).toBeLessThan(timeoutMs + 1000);
    if (reads) expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    s.destroy();
  });
});
