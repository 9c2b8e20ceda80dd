import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from './fault-proxy.ts';
import {
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  stopAll,
  waitFor,
  waitForStatus,
  type ExitServerProc,
  type Proc,
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
const IDLE_MS = 1500;
const PING_MS = 300;
const LINK = ['--ping-interval', `${PING_MS}ms`, '--idle-timeout', `${IDLE_MS}ms`];

let server: ExitServerProc;
let app: SampleApp;
let proxy: FaultProxy;
let client: Proc;

beforeAll(async () => {
  [server, app] = await Promise.all([startExitServer(token, LINK), startSampleApp('pi-1')]);
  proxy = await FaultProxy.start(server.controlPort);
  client = await startEdgeClient(token, proxy.url, 'pi-1', [app.url], { args: LINK });
});
afterAll(async () => {
  await proxy?.close();
  await stopAll();
});

/** Waits for the next occurrence of `msg` in `proc`'s log after the `already` seen so far; resolves with when it came, ms. */
async function nextLog(proc: Proc, msg: string, already: number, timeoutMs = 10_000): Promise<number> {
  await waitFor(() => proc.countLogs(msg) > already, { timeoutMs, intervalMs: 10, what: `${proc.name}: a new "${msg}"` });
  return performance.now();
}

async function served(): Promise<void> {
  await waitForStatus(server, (s) => s.clients.length === 1);
  expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
}

describe('faults on the link between edge client and exit server', () => {
  it('a blackholed link is noticed by both ends within --idle-timeout, and the client comes back once it heals', async () => {
    await served();
    const serverSaw = server.proc.countLogs('peer silent too long: closing session');
    const clientSaw = client.countLogs('peer silent too long: closing session');
    const connected = client.countLogs('tunnel established');
    const started = performance.now();
    proxy.set('blackhole');
    const [atServer, atClient] = await Promise.all([
      nextLog(server.proc, 'peer silent too long: closing session', serverSaw),
      nextLog(client, 'peer silent too long: closing session', clientSaw),
    ]);
    // Within the idle timeout of the blackhole (plus what it takes a log line to arrive here).
    expect(atServer - started).toBeLessThan(IDLE_MS + 500);
    expect(atClient - started).toBeLessThan(IDLE_MS + 500);
    proxy.set('pass');
    await nextLog(client, 'tunnel established', connected);
    await served();
  });

  it('a cut link (RST) is noticed at once and the client reconnects', async () => {
    await served();
    const lost = client.countLogs('tunnel lost');
    const connected = client.countLogs('tunnel established');
    proxy.cut();
    await nextLog(client, 'tunnel lost', lost, 2000);
    await nextLog(client, 'tunnel established', connected);
    await served();
  });

  it('a link paused for less than --idle-timeout loses nothing: the request in flight completes', async () => {
    await served();
    const lost = client.countLogs('tunnel lost');
    proxy.set('pause');
    const pending = httpRequest(`${server.publicUrl}/`);
    await new Promise((r) => setTimeout(r, IDLE_MS / 3)); // the fault itself is a span of time
    proxy.set('pass');
    expect((await pending).status).toBe(200);
    expect(client.countLogs('tunnel lost')).toBe(lost);
  });

  it('a slow link (64 KB/s) still carries requests, and pings keep it alive', async () => {
    await served();
    const lost = client.countLogs('tunnel lost');
    proxy.slow(64 * 1024);
    try {
      for (let i = 0; i < 5; i++) expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
      const big = await httpRequest(`${server.publicUrl}/bytes/200000`);
      expect(big.status).toBe(200);
    } finally {
      proxy.slow(0);
    }
    expect(client.countLogs('tunnel lost')).toBe(lost);
  });
});
