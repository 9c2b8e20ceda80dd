import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  download,
  generatedBody,
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  stopAll,
  throwAwayCertificate,
  waitForStatus,
  type SampleApp,
  type ThrowAwayCertificate,
} from '@tunnel/testing';

const token = newToken();
let app: SampleApp;
let tls: ThrowAwayCertificate;

beforeAll(async () => {
  app = await startSampleApp('pi-1');
  // Self-signed for localhost and 127.0.0.1, trusted by the client via --ca-file.
  tls = throwAwayCertificate();
});
afterAll(async () => {
  await stopAll();
  tls.remove();
});

describe('transport', () => {
  it('works over wss:// with the exit server terminating TLS', async () => {
    const server = await startExitServer(token, ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile]);
    const client = await startEdgeClient(token, `wss://127.0.0.1:${server.controlPort}`, 'tls-1', [app.url], {
      args: ['--ca-file', tls.certFile],
    });
    const res = await httpRequest(`${server.publicUrl}/`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).instance).toBe('pi-1');
    await client.stop();
    await server.proc.stop();
  });

  it('carries 30 MB each way intact over wss://, through pooled, poisoned read buffers on both ends', async () => {
    const MB = 1024 * 1024;
    const server = await startExitServer(token, ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile]);
    const client = await startEdgeClient(token, `wss://127.0.0.1:${server.controlPort}`, 'tls-bulk', [app.url], {
      args: ['--ca-file', tls.certFile],
    });
    // Both ends read TLS records into reused buffers that are overwritten on reuse (the harness
    // poisons them): a record kept without a lease, or a coalesced write reordered, breaks a hash.
    const direct = await download(`${app.url}/bytes/${30 * MB}`);
    const tunneled = await download(`${server.publicUrl}/bytes/${30 * MB}`);
    expect(tunneled.bytes).toBe(30 * MB);
    expect(tunneled.sha256).toBe(direct.sha256);
    const body = generatedBody(30 * MB);
    const res = await httpRequest(`${server.publicUrl}/echo`, {
      method: 'POST',
      body: body.stream,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).bodySha256).toBe(body.sha256());
    await client.stop();
    await server.proc.stop();
  });

  it('refuses a wss:// server whose certificate it does not trust, and says so', async () => {
    const server = await startExitServer(token, ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile]);
    const client = await startEdgeClient(token, `wss://127.0.0.1:${server.controlPort}`, 'tls-untrusted', [app.url], {
      waitConnected: false,
    });
    const failed = await client.waitForLog('connection failed');
    expect(String(failed.err)).toMatch(/SELF_SIGNED|self.signed|certificate/i);
    await client.stop();
    await server.proc.stop();
  });

  it('notices a dead link (server frozen: no FIN, no RST), reconnects, and serves again when it is back', async () => {
    const server = await startExitServer(token, ['--ping-interval', '200ms', '--idle-timeout', '1s']);
    const client = await startEdgeClient(token, server.controlUrl, 'dead-link', [app.url], {
      args: ['--ping-interval', '200ms', '--idle-timeout', '1s'],
    });
    expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
    // SIGSTOP freezes the server: its sockets stay open but nothing answers, like a dead NAT mapping.
    server.proc.child.kill('SIGSTOP');
    const lost = await client.waitForLog('tunnel lost', {}, 10_000);
    expect(lost.code).toBe('TUN_ERR_IDLE_TIMEOUT');
    server.proc.child.kill('SIGCONT');
    // The server drops the stale session on its own idle timeout; the client's new one takes over.
    await waitForStatus(server, (s) => s.clients.length === 1 && s.clients[0].sessionId !== undefined, 20_000);
    await client.waitForLine((l) => l.includes('tunnel established') && client.countLogs('tunnel established') >= 2, 20_000);
    await waitForStatus(server, (s) => s.clients.length === 1, 20_000);
    expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
    await client.stop();
    await server.proc.stop();
  });
});
