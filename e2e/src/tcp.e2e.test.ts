import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePorts,
  newToken,
  startEdgeClient,
  startExitServer,
  status,
  stopAll,
  waitForStatus,
  type ExitServerProc,
  type Proc,
} from '@tunnel/testing';
import { dial, echo, hasher, identify, readAll, sendBytes, tcpServer } from './tcp-fixtures.ts';

const token = newToken();
const MB = 1024 * 1024;
let server: ExitServerProc;
let echoPort: number;
let hashPort: number;
let P: { echo: number; hash: number; rr: number; spare: number };
let rangeFrom: number;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const [e, h] = await Promise.all([tcpServer(echo), tcpServer(hasher)]);
  closers.push(e.close, h.close);
  echoPort = e.port;
  hashPort = h.port;
  const [p1, p2, p3, p4] = await freePorts(4);
  P = { echo: p1, hash: p2, rr: p3, spare: p4 };
  // A small on-demand range just above a free port (checked free by binding it in the test).
  [rangeFrom] = await freePorts(1);
  server = await startExitServer(token, [
    '--tcp-port',
    String(P.echo),
    '--tcp-port',
    String(P.hash),
    '--tcp-port',
    String(P.rr),
    '--tcp-port-range',
    `${rangeFrom}-${rangeFrom}`,
  ]);
});
afterAll(async () => {
  await stopAll();
  for (const c of closers) await c();
});

async function tcpStats(port: number): Promise<Record<string, number>> {
  const s = await status(server);
  return (s.tcpPorts as Array<Record<string, number>>).find((p) => p.port === port) as Record<string, number>;
}

describe('TCP tunnels', () => {
  let client: Proc;

  it('carries an interactive ssh-like exchange, line by line', async () => {
    client = await startEdgeClient(token, server.controlUrl, 'tcp-1', [], {
      args: ['--tcp', `${P.echo}=127.0.0.1:${echoPort}`, '--tcp', `${P.hash}=127.0.0.1:${hashPort}`],
    });
    await waitForStatus(server, (s) => s.clients.some((c) => (c.tcpPorts as number[]).includes(P.hash)));
    const s = await dial(P.echo);
    for (const line of ['SSH-2.0-test\r\n', 'ls -la\n', 'exit\n']) {
      s.write(line);
      const [reply] = (await once(s, 'data')) as [Buffer];
      expect(reply.toString()).toBe(line);
    }
    s.end();
    await readAll(s);
  });

  it('moves 100 concurrent connections of 1 MB each, sha256 checked at the far end, across half-close', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const s = await dial(P.hash);
        const reply = readAll(s);
        const sent = await sendBytes(s, MB, i + 1);
        const { data } = await reply;
        return { sent, got: data.toString() };
      }),
    );
    for (const r of results) expect(r.got).toBe(`${MB} ${r.sent}`);
    const stats = await tcpStats(P.hash);
    expect(stats.connections).toBe(100);
    expect(stats.bytesIn).toBeGreaterThanOrEqual(100 * MB);
  });

  it('moves 200 MB through one connection without either process growing by the payload', async () => {
    const edgeBefore = client.memory();
    const serverBefore = server.proc.memory();
    const s = await dial(P.hash);
    const reply = readAll(s);
    const sent = await sendBytes(s, 200 * MB, 42);
    expect((await reply).data.toString()).toBe(`${200 * MB} ${sent}`);
    expect(server.proc.memory().peak - serverBefore.rss).toBeLessThan(64 * MB);
    expect(client.memory().peak - edgeBefore.rss).toBeLessThan(64 * MB);
  });

  it('lists open connections with their public peer address in /status', async () => {
    const s = await dial(P.echo);
    s.write('x');
    await once(s, 'data');
    const stats = (await tcpStats(P.echo)) as unknown as { activeConnections: Array<{ remote: string; client: string }> };
    expect(stats.activeConnections).toContainEqual(expect.objectContaining({ remote: `127.0.0.1:${s.localPort}`, client: 'tcp-1' }));
    s.end();
    await readAll(s);
  });

  it('passes a reset on either side to the other', async () => {
    let backendSaw: (err: string) => void;
    const backendError = new Promise<string>((r) => (backendSaw = r));
    const resetting = await tcpServer((sock) => {
      sock.on('error', (e: NodeJS.ErrnoException) => backendSaw(e.code ?? e.message));
      sock.on('data', (d: Buffer) => {
        if (d.toString() === 'reset me') sock.resetAndDestroy();
        else sock.write('ok');
      });
    });
    closers.push(resetting.close);
    const d = await startEdgeClient(token, server.controlUrl, 'resetter2', [], {
      args: ['--tcp', `${rangeFrom}=127.0.0.1:${resetting.port}`],
    });
    await waitForStatus(server, (st) => st.clients.some((x) => x.id === 'resetter2' && (x.tcpPorts as number[]).includes(rangeFrom)));
    // Public side resets: the backend sees ECONNRESET.
    const a = await dial(rangeFrom);
    a.write('hello');
    await once(a, 'data'); // the backend holds its end of the connection now
    a.resetAndDestroy();
    expect(await backendError).toBe('ECONNRESET');
    // Backend resets: the public side sees ECONNRESET.
    const b = await dial(rangeFrom);
    const result = readAll(b);
    b.write('reset me');
    expect((await result).error).toMatchObject({ code: 'ECONNRESET' });
    await d.stop();
  });

  it('closes the public connection at once when no client serves the port, and counts it', async () => {
    const s = await dial(P.rr);
    const { data } = await readAll(s);
    expect(data.length).toBe(0);
    expect((await tcpStats(P.rr)).noRoute).toBeGreaterThanOrEqual(1);
  });

  it('round-robins connections on one port across two clients', async () => {
    const [a, b] = await Promise.all([tcpServer(identify('A')), tcpServer(identify('B'))]);
    closers.push(a.close, b.close);
    const ca = await startEdgeClient(token, server.controlUrl, 'rr-a', [], { args: ['--tcp', `${P.rr}=127.0.0.1:${a.port}`] });
    const cb = await startEdgeClient(token, server.controlUrl, 'rr-b', [], { args: ['--tcp', `${P.rr}=127.0.0.1:${b.port}`] });
    await waitForStatus(server, (s) => s.clients.filter((c) => (c.tcpPorts as number[]).includes(P.rr)).length === 2);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push((await readAll(await dial(P.rr))).data.toString());
    expect(seen.filter((x) => x === 'A')).toHaveLength(3);
    expect(seen.filter((x) => x === 'B')).toHaveLength(3);
    await Promise.all([ca.stop(), cb.stop()]);
  });

  it('closes the public side promptly when the client is killed mid-stream', async () => {
    const victim = await startEdgeClient(token, server.controlUrl, 'victim', [], { args: ['--tcp', `${P.rr}=127.0.0.1:${echoPort}`] });
    await waitForStatus(server, (s) => s.clients.some((c) => c.id === 'victim'));
    const s = await dial(P.rr);
    s.write('ping');
    await once(s, 'data');
    const closed = readAll(s);
    const t0 = Date.now();
    await victim.stop('SIGKILL');
    await closed;
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('refuses a port the server does not offer (privileged, outside the range) with a typed error, serving the rest', async () => {
    const c = await startEdgeClient(token, server.controlUrl, 'greedy', [], {
      args: ['--tcp', `22=127.0.0.1:${echoPort}`, '--tcp', `${P.spare}=127.0.0.1:${echoPort}`, '--tcp', `${P.echo}=127.0.0.1:${echoPort}`],
    });
    const refused = await c.waitForLog('exit server refused a TCP port', { port: 22 });
    expect(refused.code).toBe('TUN_ERR_TCP_PORT_REFUSED');
    await c.waitForLog('exit server refused a TCP port', { port: P.spare });
    const s = await status(server);
    expect(s.clients.find((x) => x.id === 'greedy')?.tcpPorts).toEqual([P.echo]);
    await c.stop();
  });

  it('opens a port from --tcp-port-range on demand and closes it when its last client leaves', async () => {
    const c = await startEdgeClient(token, server.controlUrl, 'dynamic', [], { args: ['--tcp', `${rangeFrom}=127.0.0.1:${echoPort}`] });
    await waitForStatus(server, (s) => s.clients.some((x) => x.id === 'dynamic' && (x.tcpPorts as number[]).includes(rangeFrom)));
    const s = await dial(rangeFrom);
    s.end('hi');
    expect((await readAll(s)).data.toString()).toBe('hi');
    await c.stop();
    await server.proc.waitForLog('closed on-demand TCP port: its last client left', { port: rangeFrom });
    await expect(dial(rangeFrom)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('sends a PROXY protocol v1 header with the public peer address when asked', async () => {
    const firstLine = await tcpServer((sock) => sock.once('data', (d: Buffer) => sock.end(d.toString().split('\r\n')[0])));
    closers.push(firstLine.close);
    const c = await startEdgeClient(token, server.controlUrl, 'proxied', [], {
      args: ['--tcp', `${P.rr}=127.0.0.1:${firstLine.port}`, '--proxy-protocol', `${P.rr}=v1`],
    });
    await waitForStatus(server, (s) => s.clients.some((x) => x.id === 'proxied'));
    const s = await dial(P.rr);
    const localPort = s.localPort;
    s.write('payload');
    const { data } = await readAll(s);
    expect(data.toString()).toBe(`PROXY TCP4 127.0.0.1 127.0.0.1 ${localPort} ${P.rr}`);
    await c.stop();
  });
});
