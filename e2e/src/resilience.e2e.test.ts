import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  status,
  stopAll,
  waitFor,
  waitForStatus,
  type ExitServerProc,
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
let server: ExitServerProc;
let pi1: SampleApp;
let pi2: SampleApp;

beforeAll(async () => {
  [server, pi1, pi2] = await Promise.all([startExitServer(token), startSampleApp('pi-1'), startSampleApp('pi-2')]);
});
afterAll(stopAll);

describe('failures have defined outcomes', () => {
  it('refuses a wrong token with 401 before the upgrade, registers nothing, and never logs the token', async () => {
    const wrong = `wrong-${newToken()}`;
    const client = await startEdgeClient(wrong, server.controlUrl, 'intruder', [pi1.url], { waitConnected: false });
    const refused = await client.waitForLog(
      'exit server refused the token (TUN_ERR_AUTH): check --token-env/--token-file on both ends; retrying with backoff in case the secret is being rotated',
    );
    expect(refused).toMatchObject({ status: 401, code: 'TUN_ERR_AUTH' });
    await server.proc.waitForLog('refused edge client', { status: 401 });
    expect((await status(server)).clients).toEqual([]);
    const res = await httpRequest(`${server.publicUrl}/`);
    expect(res.status).toBe(503);
    // It keeps retrying with backoff (the secret may be rotated).
    await client.waitForLine((l) => l.includes('reconnecting after backoff') && l.includes('"attempt":2'));
    await client.stop();
    for (const line of [...server.proc.lines, ...client.lines]) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(wrong);
    }
  });

  it('fails only the in-flight POST of a killed client (502) and keeps serving through the other', async () => {
    const a = await startEdgeClient(token, server.controlUrl, 'victim-a', [pi1.url]);
    const b = await startEdgeClient(token, server.controlUrl, 'victim-b', [pi2.url]);
    await waitForStatus(server, (s) => s.clients.length === 2);
    const slow = httpRequest(`${server.publicUrl}/slow?ms=20000`, {
      method: 'POST',
      body: 'order=1',
      headers: { 'content-type': 'text/plain' },
    });
    let busy: Record<string, unknown> | undefined;
    await waitForStatus(server, (s) => {
      busy = s.clients.find((c) => c.inFlight === 1);
      return busy !== undefined;
    });
    const [victim, survivor] = busy?.id === 'victim-a' ? [a, b] : [b, a];
    await victim.stop('SIGKILL');
    const res = await slow;
    expect(res.status).toBe(502);
    await waitForStatus(server, (s) => s.clients.length === 1);
    for (let i = 0; i < 5; i++) expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
    await survivor.stop();
  });

  it('replays the in-flight GET of a killed client, which sent no byte of its answer, on the other client', async () => {
    const a = await startEdgeClient(token, server.controlUrl, 'replay-a', [pi1.url]);
    const b = await startEdgeClient(token, server.controlUrl, 'replay-b', [pi2.url]);
    await waitForStatus(server, (s) => s.clients.length === 2);
    const slow = httpRequest(`${server.publicUrl}/slow?ms=500`, { timeoutMs: 15_000 });
    let busy: Record<string, unknown> | undefined;
    await waitForStatus(server, (s) => {
      busy = s.clients.find((c) => c.inFlight === 1);
      return busy !== undefined;
    });
    const [victim, survivor, survivorId] = busy?.id === 'replay-a' ? [a, b, 'replay-b'] : [b, a, 'replay-a'];
    const replayedBefore = (await status(server)).publicReplayed as number;
    await victim.stop('SIGKILL');
    expect((await slow).status).toBe(200);
    const after = await status(server);
    expect(after.publicReplayed).toBe(replayedBefore + 1);
    expect(after.clients.find((c) => c.id === survivorId)?.requestsServed).toBe(1);
    await survivor.stop();
    await waitForStatus(server, (s) => s.clients.length === 0);
  });

  it('drains on SIGTERM: in-flight requests finish, then the client leaves', async () => {
    const a = await startEdgeClient(token, server.controlUrl, 'drainer', [pi1.url]);
    await waitForStatus(server, (s) => s.clients.length === 1);
    const slow = httpRequest(`${server.publicUrl}/slow?ms=1000`);
    await waitForStatus(server, (s) => s.clients[0]?.inFlight === 1);
    const exit = a.stop('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await exit).toBe(0);
    await waitForStatus(server, (s) => s.clients.length === 0);
  });

  it('fails no request when a client is stopped (SIGTERM) under load', async () => {
    const a = await startEdgeClient(token, server.controlUrl, 'rolling-a', [pi1.url]);
    const b = await startEdgeClient(token, server.controlUrl, 'rolling-b', [pi2.url]);
    await waitForStatus(server, (s) => s.clients.length === 2);
    const statuses: number[] = [];
    let stopped: Promise<number | null> | undefined;
    // 10 workers x 40 requests; client A gets SIGTERM once 100 requests are done.
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 40; i++) {
          statuses.push((await httpRequest(`${server.publicUrl}/`)).status);
          if (statuses.length === 100) stopped = a.stop('SIGTERM');
        }
      }),
    );
    expect(await stopped).toBe(0);
    expect(statuses).toHaveLength(400);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await b.stop();
  });

  it('reconnects by itself after the exit server restarts', async () => {
    const own = await startExitServer(token);
    const client = await startEdgeClient(token, own.controlUrl, 'phoenix', [pi1.url]);
    expect((await httpRequest(`${own.publicUrl}/`)).status).toBe(200);
    await own.proc.stop('SIGTERM');
    await client.waitForLog('tunnel lost');
    const again = await startExitServer(token, [], { port: own.port, controlPort: own.controlPort });
    const t0 = Date.now();
    await waitForStatus(again, (s) => s.clients.length === 1);
    const res = await httpRequest(`${again.publicUrl}/`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).instance).toBe('pi-1');
    expect(Date.now() - t0).toBeLessThan(10_000);
    // The server lists the client as soon as it accepts; the client's log line may come a moment later.
    await waitFor(() => client.countLogs('tunnel established') === 2, { what: 'the second "tunnel established" line' });
    await client.stop();
    await again.proc.stop();
  });
});
