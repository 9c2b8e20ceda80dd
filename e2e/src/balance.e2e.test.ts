import { createServer, Agent, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  status,
  stopAll,
  waitForStatus,
  type ExitServerProc,
  type Proc,
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
let server: ExitServerProc;
let pi1: SampleApp;
let pi2: SampleApp;
let clients: Proc[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  [server, pi1, pi2] = await Promise.all([
    startExitServer(token, ['--sticky-cookie', 'tunnel_lb']),
    startSampleApp('pi-1'),
    startSampleApp('pi-2'),
  ]);
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

async function twoClients(weights: [number, number] = [1, 1]): Promise<void> {
  clients = await Promise.all([
    startEdgeClient(token, server.controlUrl, 'pi-1', [pi1.url], { args: ['--weight', String(weights[0])] }),
    startEdgeClient(token, server.controlUrl, 'pi-2', [pi2.url], { args: ['--weight', String(weights[1])] }),
  ]);
  await waitForStatus(server, (s) => s.clients.length === 2);
}

/** Who served each of `n` requests sent one after another on `agent`. */
async function tally(
  agent: Agent,
  n: number,
  counts: Record<string, number> = {},
  headers: Record<string, string> = {},
): Promise<Record<string, number>> {
  for (let i = 0; i < n; i++) {
    const res = await httpRequest(`${server.publicUrl}/`, { agent, headers });
    expect(res.status).toBe(200);
    const who = JSON.parse(res.body).instance as string;
    counts[who] = (counts[who] ?? 0) + 1;
  }
  return counts;
}

describe('per-request balancing (--balance request, the default)', () => {
  it('splits 100 requests on one keep-alive connection exactly 50/50, and weights 2:1 give 2:1', async () => {
    await twoClients();
    const agent = connection();
    expect(await tally(agent, 100)).toEqual({ 'pi-1': 50, 'pi-2': 50 });
    // All 100 rode one public connection, over one stream per client (the fast path).
    const s = await status(server);
    expect(s.publicConnections).toBe(1);
    expect(s.clients.map((c) => [c.id, c.requestsServed, c.weight, c.streams, c.inFlight]).sort()).toEqual([
      ['pi-1', 50, 1, 1, 0],
      ['pi-2', 50, 1, 1, 0],
    ]);
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await waitForStatus(server, (st) => st.clients.length === 0);

    await twoClients([2, 1]);
    expect(await tally(connection(), 90)).toEqual({ 'pi-1': 60, 'pi-2': 30 });
  });

  it('keeps each client within 2% of its share over a pool of 4 keep-alive connections and 1,000 requests', async () => {
    await twoClients();
    const counts: Record<string, number> = {};
    await Promise.all(Array.from({ length: 4 }, () => tally(connection(), 250, counts)));
    console.log(`4 keep-alive connections, 1,000 requests: ${JSON.stringify(counts)}`);
    expect(counts['pi-1'] + counts['pi-2']).toBe(1000);
    for (const id of ['pi-1', 'pi-2']) expect(Math.abs(counts[id] - 500)).toBeLessThanOrEqual(10);
  });

  it('answers 10 pipelined requests on one connection in order and intact', async () => {
    await twoClients();
    const requests = Array.from(
      { length: 10 },
      (_, i) => `GET /echo?n=${i} HTTP/1.1\r\nHost: pipe.test\r\n${i === 9 ? 'Connection: close\r\n' : ''}\r\n`,
    ).join('');
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(server.port, '127.0.0.1', () => s.write(requests));
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      s.on('error', reject);
    });
    const responses = text.split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(10);
    responses.forEach((r, i) => {
      expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const length = Number(/content-length: (\d+)/i.exec(r)?.[1]);
      const body = r.slice(r.indexOf('\r\n\r\n') + 4);
      expect(Buffer.byteLength(body)).toBe(length);
      expect(JSON.parse(body).query).toEqual({ n: String(i) });
    });
  });

  it('sticks to the client a cookie names (50 requests), and ignores a forged cookie', async () => {
    await twoClients();
    const first = await httpRequest(`${server.publicUrl}/`);
    const cookie = (first.headers['set-cookie'] ?? [])[0] ?? '';
    expect(cookie).toMatch(/^tunnel_lb=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/);
    const who = JSON.parse(first.body).instance as string;
    expect(cookie).not.toContain(who);
    const pair = cookie.split(';')[0];
    const counts: Record<string, number> = {};
    // Half on fresh connections, half on one kept-alive connection.
    for (let i = 0; i < 25; i++) {
      const res = await httpRequest(`${server.publicUrl}/`, { headers: { cookie: `theme=dark; ${pair}` } });
      counts[JSON.parse(res.body).instance] = (counts[JSON.parse(res.body).instance] ?? 0) + 1;
    }
    await tally(connection(), 25, counts, { cookie: pair });
    expect(counts).toEqual({ [who]: 50 });
    const forged = await tally(connection(), 20, {}, { cookie: 'tunnel_lb=AAAAAAAAAAAAAAAAAAAAAA' });
    expect(forged).toEqual({ 'pi-1': 10, 'pi-2': 10 });
  });
});

describe('least-inflight', () => {
  let exit: ExitServerProc;
  const upstreams: Server[] = [];

  afterAll(async () => {
    await exit?.proc.stop();
    for (const u of upstreams) u.close();
  });

  async function upstream(name: string, delayMs: number): Promise<string> {
    const u = createServer((_req, res) => setTimeout(() => res.end(JSON.stringify({ instance: name })), delayMs));
    upstreams.push(u);
    await new Promise<void>((r) => u.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(u.address() as AddressInfo).port}`;
  }

  it('gives the larger share to the fast client when the other upstream takes 50 ms', async () => {
    exit = await startExitServer(token, ['--balance-policy', 'least-inflight']);
    const [fast, slow] = await Promise.all([upstream('fast', 0), upstream('slow', 50)]);
    clients = await Promise.all([
      startEdgeClient(token, exit.controlUrl, 'fast', [fast]),
      startEdgeClient(token, exit.controlUrl, 'slow', [slow]),
    ]);
    await waitForStatus(exit, (s) => s.clients.length === 2);
    const counts: Record<string, number> = {};
    // 8 kept-alive connections, 50 requests each, one after another on each.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const agent = connection();
        for (let i = 0; i < 50; i++) {
          const res = await httpRequest(`${exit.publicUrl}/`, { agent });
          expect(res.status).toBe(200);
          const who = JSON.parse(res.body).instance as string;
          counts[who] = (counts[who] ?? 0) + 1;
        }
      }),
    );
    console.log(`least-inflight, slow upstream +50 ms, 400 requests on 8 connections: fast ${counts.fast}, slow ${counts.slow ?? 0}`);
    expect(counts.fast).toBeGreaterThan(counts.slow ?? 0);
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });
});
