import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { newToken, startEdgeClient, startExitServer, stopAll, waitFor, waitForStatus } from '@tunnel/testing';

let upstream: Server | undefined;
afterAll(async () => {
  upstream?.closeAllConnections();
  upstream?.close();
  await stopAll();
});

describe('an idle kept-alive public connection', () => {
  it("releases its tunnel stream and the edge client's upstream socket after --stream-idle-timeout, and stays open", async () => {
    // The upstream is in this process, so the test sees its sockets open and close.
    const open = new Set<Socket>();
    upstream = createServer({ keepAliveTimeout: 60_000 }, (_req, res) => res.end('ok'));
    upstream.on('connection', (s: Socket) => {
      open.add(s);
      s.on('close', () => open.delete(s));
    });
    await new Promise<void>((r) => upstream?.listen(0, '127.0.0.1', r));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const token = newToken();
    const server = await startExitServer(token, ['--stream-idle-timeout', '300ms', '--keep-alive-timeout', '60s']);
    await startEdgeClient(token, server.controlUrl, 'pi-1', [upstreamUrl]);
    await waitForStatus(server, (s) => s.clients.length === 1);

    const pub = connect(server.port, '127.0.0.1');
    let text = '';
    pub.on('data', (c: Buffer) => (text += c.toString('latin1')));
    pub.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => text.endsWith('ok'), { intervalMs: 10, what: 'the answer' });
    expect(open.size).toBe(1); // the edge client's connection to the upstream, kept alive
    const answered = performance.now();
    await waitFor(() => open.size === 0, { intervalMs: 10, what: "the edge client's upstream socket to close" });
    const released = performance.now() - answered;
    expect(released).toBeGreaterThanOrEqual(250);
    expect(released).toBeLessThan(3000);
    await waitForStatus(server, (s) => (s.clients[0] as { inFlight: number }).inFlight === 0);
    // The public connection is still there and serves its next request on a new stream.
    expect(pub.destroyed).toBe(false);
    text = '';
    pub.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => text.endsWith('ok'), { intervalMs: 10, what: 'the second answer' });
    pub.destroy();
  });
});
