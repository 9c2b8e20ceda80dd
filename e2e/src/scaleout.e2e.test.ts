import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startHaproxy,
  startSampleApp,
  status,
  stopAll,
  waitFor,
  waitForStatus,
  type Backend,
  type ExitServerProc,
  type LoadBalancer,
  type Proc,
} from '@tunnel/testing';
import { startLoad } from './load.ts';

/**
 * Scale-out: 3 exit servers on loopback that know each other (--peer), HAProxy in front of their
 * public and control ports (TCP, round-robin, health-checked: the ALB's stand-in), and 2 edge
 * clients that dial only HAProxy. Every client must end up attached to every server.
 */
const token = newToken();
const backends: Backend[] = [];
const servers: ExitServerProc[] = [];
let lb: LoadBalancer;
const clients: Proc[] = [];

/**
 * Discovery and drain timings short enough for a test, long enough for a loaded 2-core host: the
 * drain delay gives HAProxy's 200 ms health checks time to see a leaving server before it closes.
 */
const SERVER_ARGS = ['--peer-interval', '250ms', '--peer-timeout', '1s', '--drain-delay', '1500ms', '--ready-timeout', '20s'];

function startServer(i: number): Promise<ExitServerProc> {
  const peers = backends.flatMap((b, j) => (j === i ? [] : ['--peer', `127.0.0.1:${b.controlPort}`]));
  return startExitServer(token, [...SERVER_ARGS, ...peers, '--instance-id', `exit-${i}-${Date.now().toString(36)}`], backends[i]);
}

/** Every server's /status lists both clients (one session each, serving) and their other servers. */
async function allAttached(timeoutMs: number): Promise<void> {
  await Promise.all(
    servers.map((s) =>
      waitForStatus(
        s,
        (st) => {
          const serving = st.clients.filter((c) => c.draining === false);
          const others = servers.map(instanceOf).filter((id) => id !== instanceOf(s));
          return (
            ['ha-1', 'ha-2'].every((id) => serving.filter((c) => c.id === id).length === 1) &&
            serving.every((c) => others.every((o) => (c.alsoAttachedTo as string[]).includes(o)))
          );
        },
        timeoutMs,
      ),
    ),
  );
}

function instanceOf(s: ExitServerProc): string {
  const line = s.proc.lines.find((l) => l.includes('"exit server listening"'));
  return (JSON.parse(line ?? '{}') as { instanceId?: string }).instanceId ?? '';
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) backends.push({ port: await freePort(), controlPort: await freePort() });
  const [pi1, pi2] = await Promise.all([startSampleApp('pi-1'), startSampleApp('pi-2')]);
  for (let i = 0; i < 3; i++) servers.push(await startServer(i));
  lb = await startHaproxy(backends);
  const url = `ws://127.0.0.1:${lb.controlPort}`;
  clients.push(await startEdgeClient(token, url, 'ha-1', [pi1.url]), await startEdgeClient(token, url, 'ha-2', [pi2.url]));
});

afterAll(async () => {
  await lb?.stop();
  await stopAll();
});

describe('scale-out behind a load balancer', () => {
  it('within 10 s every server lists both clients, each attached to the other two servers as well', async () => {
    const t0 = Date.now();
    await allAttached(10_000);
    console.log(`[scaleout] both clients attached to all 3 servers ${Date.now() - t0} ms after the clients started`);
    for (const c of clients) expect(c.countLogs('attached to exit server')).toBeGreaterThanOrEqual(3);
  });

  it('300 public requests through the load balancer all succeed, and both apps answer', async () => {
    for (let i = 0; i < 3; i++) await lb.waitFor(`exit${i}`, true);
    const url = `http://127.0.0.1:${lb.publicPort}/`;
    const results = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const got: string[] = [];
        for (let n = 0; n < 30; n++) {
          const res = await httpRequest(url);
          got.push(res.status === 200 ? (JSON.parse(res.body) as { instance: string }).instance : `HTTP ${res.status}`);
        }
        return got;
      }),
    );
    const all = results.flat();
    expect(all).toHaveLength(300);
    expect(all.filter((x) => x !== 'pi-1' && x !== 'pi-2')).toEqual([]);
    expect(new Set(all)).toEqual(new Set(['pi-1', 'pi-2']));
    // Every server carried some of them (round-robin): each one routes to the clients by itself.
    for (const s of servers)
      expect(((await status(s)).clients as Array<{ requestsServed: number }>).reduce((a, c) => a + c.requestsServed, 0)).toBeGreaterThan(0);
  });

  // Three drains, starts and re-attaches in a row: 31-60 s at load 24-38 on 2 cores (each step
  // has its own deadline below), which left vitest's 60 s too little. The assertions are the same.
  it('a rolling restart of all three servers under continuous load fails no request', { timeout: 150_000 }, async () => {
    const load = startLoad(`http://127.0.0.1:${lb.publicPort}/`, 4);
    const progressed = async (n: number) => {
      const target = load.done() + n;
      await waitFor(() => load.done() >= target, { timeoutMs: 60_000, what: `${n} more requests` });
    };
    await progressed(50);
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      expect(await servers[i].proc.stop('SIGTERM')).toBe(0);
      servers[i] = await startServer(i);
      await allAttached(15_000);
      await lb.waitFor(`exit${i}`, true);
      console.log(`[scaleout] server ${i} replaced; all clients attached to it ${Date.now() - t0} ms after its SIGTERM`);
      await progressed(50);
    }
    const result = await load.stop();
    console.log(
      `[scaleout] rolling restart: ${result.total} requests, ${result.failures.length} failed`,
      result.byInstance,
      result.failures.slice(0, 10),
    );
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(200);
    expect(Object.keys(result.byInstance).sort()).toEqual(['pi-1', 'pi-2']);
  });

  it('kill -9 of one server under load fails at most the requests in flight on it; clients re-attach to its replacement', async () => {
    const load = startLoad(`http://127.0.0.1:${lb.publicPort}/`, 4);
    await waitFor(() => load.done() >= 50, { timeoutMs: 60_000, what: 'the first 50 requests' });
    const before = load.done();
    const detachedBefore = clients.map((c) => c.countLogs('detached from exit server'));
    await servers[1].proc.stop('SIGKILL');
    // In flight on it at most: 4 workers, each with one request; HAProxy retries refused connects.
    const afterKill = load.done();
    // A replacement elsewhere gets a new address; here it reuses the port, so it must not start
    // before HAProxy has seen the old one go: else connections HAProxy still sends to the "UP"
    // server reach the replacement before it holds clients (503s that no ALB would produce).
    await lb.waitFor('exit1', false);
    servers[1] = await startServer(1);
    const t0 = Date.now();
    await allAttached(10_000);
    await lb.waitFor('exit1', true);
    console.log(`[scaleout] kill -9: replacement attached by both clients in ${Date.now() - t0} ms`);
    await waitFor(() => load.done() >= afterKill + 100, { timeoutMs: 60_000, what: '100 requests after the kill' });
    const result = await load.stop();
    console.log(
      `[scaleout] kill -9 under load: ${result.total} requests (${before} before the kill), ${result.failures.length} failed:`,
      result.failures,
    );
    expect(result.failures.length).toBeLessThanOrEqual(4);
    expect(result.ok).toBeGreaterThan(150);
    // Each client logged the detach from the killed server (and attached to its replacement above).
    clients.forEach((c, i) => expect(c.countLogs('detached from exit server')).toBeGreaterThan(detachedBefore[i]));
  });
});
