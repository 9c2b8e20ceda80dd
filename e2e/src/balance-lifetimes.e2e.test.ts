import { Agent } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  download,
  generatedBody,
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
  type Proc,
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
const MB = 1024 * 1024;
let server: ExitServerProc;
let pi1: SampleApp;
let pi2: SampleApp;
let clients: Proc[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  [server, pi1, pi2] = await Promise.all([startExitServer(token), startSampleApp('pi-1'), startSampleApp('pi-2')]);
});
beforeEach(async () => {
  clients = [
    await startEdgeClient(token, server.controlUrl, 'pi-1', [pi1.url]),
    await startEdgeClient(token, server.controlUrl, 'pi-2', [pi2.url]),
  ];
  await waitForStatus(server, (s) => s.clients.length === 2);
});
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await waitForStatus(server, (s) => s.clients.length === 0);
});
afterAll(stopAll);

/** One kept-alive connection (an agent with a single socket). */
function connection(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

async function whoAnswers(agent?: Agent): Promise<string> {
  const res = await httpRequest(`${server.publicUrl}/`, { agent });
  expect(res.status).toBe(200);
  return JSON.parse(res.body).instance as string;
}

describe('what stays on its client while requests around it move', () => {
  it('carries 100 MB up and down intact on one connection whose requests alternate clients', async () => {
    const agent = connection();
    const first = await whoAnswers(agent);
    const body = generatedBody(100 * MB);
    const up = await httpRequest(`${server.publicUrl}/echo`, { method: 'POST', body: body.stream, agent });
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body)).toMatchObject({ bodyBytes: 100 * MB, bodySha256: body.sha256() });
    // The upload went to the other client, and the next request moves back.
    expect(await whoAnswers(agent)).toBe(first);
    const direct = await download(`${pi1.url}/bytes/${100 * MB}`);
    const down = await download(`${server.publicUrl}/bytes/${100 * MB}`, agent);
    expect(down).toMatchObject({ status: 200, bytes: 100 * MB, sha256: direct.sha256 });
    expect(await whoAnswers(agent)).toBe(first);
    const s = await status(server);
    expect(s.publicConnections).toBe(1);
    expect(s.clients.map((c) => c.requestsServed).sort()).toEqual([2, 3]);
  });

  it('keeps an SSE stream on its client while the next requests move', async () => {
    const agent = connection();
    const before = await whoAnswers(agent);
    const res = await httpRequest(`${server.publicUrl}/sse?count=6&interval=30`, { agent });
    const instances = [...res.body.matchAll(/"instance":"([^"]+)"/g)].map((m) => m[1]);
    expect(instances).toHaveLength(6);
    // Every event from one client, the one after `before` in the rotation; then back again.
    expect(new Set(instances)).toEqual(new Set([before === 'pi-1' ? 'pi-2' : 'pi-1']));
    expect(await whoAnswers(agent)).toBe(before);
  });

  it('keeps a WebSocket on its client for its whole life while other requests alternate', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const upgrade = await server.proc.waitForLog('request', { path: '/ws', status: 101 });
    const echoes: string[] = [];
    ws.on('message', (data: Buffer) => echoes.push(data.toString()));
    const seen: Record<string, number> = {};
    for (let i = 0; i < 10; i++) {
      ws.send(`m${i}`);
      const who = await whoAnswers();
      seen[who] = (seen[who] ?? 0) + 1;
    }
    await waitFor(() => echoes.length === 10, { what: 'the 10 echoes' });
    expect(echoes).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    // Other requests kept alternating between both clients meanwhile.
    expect(seen).toEqual({ 'pi-1': 5, 'pi-2': 5 });
    // The upgraded connection is still one stream on the client that took the upgrade.
    const holder = (await status(server)).clients.find((c) => c.id === upgrade.client);
    expect(holder?.streams).toBeGreaterThanOrEqual(1);
    ws.close();
    await new Promise((r) => ws.once('close', r));
  });
});

describe('draining a client under keep-alive load', () => {
  it('sends no new request to a draining client on a connection bound to it', async () => {
    const agent = connection();
    // The connection now holds a stream on both clients.
    const served = new Set([await whoAnswers(agent), await whoAnswers(agent)]);
    expect(served).toEqual(new Set(['pi-1', 'pi-2']));
    // A client draining with a slow request in flight stays connected meanwhile.
    const slow = httpRequest(`${server.publicUrl}/slow?ms=1500`);
    const busy = await waitForStatus(server, (s) => s.clients.some((c) => c.inFlight === 1));
    const drainingId = busy.clients.find((c) => c.inFlight === 1)?.id as string;
    const draining = clients.find((c) => c.name === `client:${drainingId}`) as Proc;
    const exited = draining.stop('SIGTERM');
    await server.proc.waitForLog('edge client is draining: out of rotation', { client: drainingId });
    const after: Record<string, number> = {};
    for (let i = 0; i < 10; i++) {
      const who = await whoAnswers(agent);
      after[who] = (after[who] ?? 0) + 1;
    }
    expect(after).toEqual({ [drainingId === 'pi-1' ? 'pi-2' : 'pi-1']: 10 });
    expect((await slow).status).toBe(200);
    expect(await exited).toBe(0);
  });

  it('fails no request while a client drains (SIGTERM) under keep-alive load', async () => {
    const statuses: number[] = [];
    let stopped: Promise<number | null> | undefined;
    // 8 kept-alive connections, 60 requests each; one client gets SIGTERM after 150 requests.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const agent = connection();
        for (let i = 0; i < 60; i++) {
          statuses.push((await httpRequest(`${server.publicUrl}/`, { agent })).status);
          if (statuses.length === 150) stopped = clients[0].stop('SIGTERM');
        }
      }),
    );
    expect(await stopped).toBe(0);
    expect(statuses).toHaveLength(480);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
