import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '@tunnel/tunnel-protocol';
import {
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  stopAll,
  waitForStatus,
  type ExitServerProc,
} from '@tunnel/testing';

const token = newToken();
let server: ExitServerProc;

beforeAll(async () => {
  const [s, app] = await Promise.all([startExitServer(token), startSampleApp('pi-1')]);
  server = s;
  await startEdgeClient(token, server.controlUrl, 'pi-1', [app.url]);
  await waitForStatus(server, (st) => st.clients.length === 1);
});
afterAll(stopAll);

/** Sends raw bytes and resolves with whatever comes back before the socket closes. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => resolve(text));
    s.on('error', () => {});
    s.end(bytes);
  });
}

describe('hostile input never takes the server down', () => {
  it('answers garbage and malformed upgrades on the control port with clean refusals', async () => {
    const port = server.controlPort;
    expect(await raw(port, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]))).toMatch(/^HTTP\/1\.1 400/);
    const badHello = `GET /tunnel HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\nx-tunnel-hello: !!!\r\n\r\n`;
    const refused = await raw(port, badHello);
    expect(refused).toMatch(/^HTTP\/1\.1 400/);
    expect(refused).toContain('TUN_ERR_BAD_HELLO');
    expect(refused).not.toContain(token);
    const wrongPath = await raw(port, badHello.replace('/tunnel', '/elsewhere'));
    expect(wrongPath).toMatch(/^HTTP\/1\.1 404/);
  });

  it('closes a session that sends a malformed frame with 1002 and keeps serving the others', async () => {
    // A second, hand-made client that speaks garbage after a valid handshake.
    const hello = Buffer.from(
      JSON.stringify({ version: PROTOCOL_VERSION, clientId: 'rogue', hostnames: ['rogue.test'], tcpPorts: [], capabilities: ['http'] }),
    ).toString('base64url');
    const ws = new WebSocket(`${server.controlUrl}/tunnel`, { headers: { authorization: `Bearer ${token}`, 'x-tunnel-hello': hello } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await waitForStatus(server, (s) => s.clients.some((c) => c.id === 'rogue'));
    ws.send(Buffer.from([99, 0, 0, 0, 0, 1, 0, 0, 0, 0]));
    const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    expect(code).toBe(1002);
    await waitForStatus(server, (s) => !s.clients.some((c) => c.id === 'rogue'));
    expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
  });

  it('closes the session of a client that keeps pinging but reads nothing, and routes no more requests to it', async () => {
    // The deaf peer's pings come from this test process every 100 ms; --idle-timeout 1s closed it
    // as silent (TUN_ERR_IDLE_TIMEOUT, 1001 ms) when this process stalled that long at load ~10,
    // before its outgoing bytes were stuck long enough. 3 s tolerates such stalls.
    const quick = await startExitServer(token, ['--idle-timeout', '3s', '--ping-interval', '250ms']);
    const hello = Buffer.from(
      JSON.stringify({ version: PROTOCOL_VERSION, clientId: 'deaf', hostnames: ['deaf.test'], tcpPorts: [], capabilities: ['http'] }),
    ).toString('base64url');
    const deaf = connect(quick.controlPort, '127.0.0.1');
    deaf.on('error', () => {});
    deaf.write(
      `GET /tunnel HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\nx-tunnel-hello: ${hello}\r\n\r\n`,
    );
    await new Promise((resolve) => deaf.once('data', resolve));
    deaf.pause(); // reads nothing from now on
    // A tunnel PING (type 5, stream 0, 8 bytes) in a masked WebSocket frame with the zero key, every 100 ms.
    const ping = Buffer.concat([Buffer.from([0x82, 0x80 | 18, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 8]), Buffer.alloc(8)]);
    const pinger = setInterval(() => deaf.write(ping), 100);
    await waitForStatus(quick, (s) => s.clients.some((c) => c.id === 'deaf'));
    // Uploads routed to it fill the loopback buffers toward it (each stream sends up to its 1 MiB window).
    const uploads = Array.from({ length: 16 }, () =>
      httpRequest(`${quick.publicUrl}/`, { method: 'POST', host: 'deaf.test', body: Buffer.alloc(2 * 1024 * 1024) }).catch(() => undefined),
    );
    try {
      const closed = await quick.proc.waitForLog(
        'peer reads nothing we send: closing session',
        { code: 'TUN_ERR_PEER_NOT_READING' },
        30_000,
      );
      expect(closed.client).toBe('deaf');
      await waitForStatus(quick, (s) => !s.clients.some((c) => c.id === 'deaf'));
      expect((await httpRequest(`${quick.publicUrl}/`, { host: 'deaf.test' })).status).toBe(503);
    } finally {
      clearInterval(pinger);
      deaf.destroy();
      await Promise.all(uploads);
    }
  });

  it('answers 431 to oversized header fields and 414 to an over-long target on the public port, closes, and keeps serving', async () => {
    // raw() resolves when the server closes the connection.
    const res = await raw(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 431/);
    const long = await raw(server.port, `GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(long).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
    expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
  });

  it('answers 400 to a malformed request line on the public port', async () => {
    expect(await raw(server.port, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const health = await httpRequest(`http://127.0.0.1:${server.controlPort}/healthz`);
    expect(health.status).toBe(200);
  });
});
