import { afterAll, describe, expect, it } from 'vitest';
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
afterAll(stopAll);

/** Concurrent request loops while a client is frozen, and requests each sends (bounded: 4 x 5 requests). */
const WORKERS = 4;
const PER_WORKER = 5;
/** --request-timeout of the servers here: what a request stuck on the frozen client waits before its 504. */
const REQUEST_TIMEOUT = '4s';
/** --unresponsive-after of the server under test, ms. */
const AFTER_MS = 500;

/** A server with `args` and two edge clients (pi-1, pi-2) on their own sample apps, both registered. */
async function setUp(args: string[]): Promise<{ server: ExitServerProc; clients: Proc[]; metricsPort: number }> {
  const [server, app1, app2] = await Promise.all([
    startExitServer(token, ['--request-timeout', REQUEST_TIMEOUT, '--metrics-bind', '127.0.0.1:0', ...args]),
    startSampleApp('pi-1'),
    startSampleApp('pi-2'),
  ]);
  const metricsPort = (await server.proc.waitForLog('exit server listening')).metricsPort as number;
  const clients = await Promise.all(
    (
      [
        ['pi-1', app1],
        ['pi-2', app2],
      ] as Array<[string, SampleApp]>
    ).map(([id, app]) => startEdgeClient(token, server.controlUrl, id, [app.url])),
  );
  await waitForStatus(server, (s) => s.clients.length === 2);
  return { server, clients, metricsPort };
}

/** The value of an unlabelled metric `name`. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** Status of each of WORKERS x PER_WORKER GETs (0: no response), sent by WORKERS concurrent loops on fresh connections. */
async function load(server: ExitServerProc): Promise<number[]> {
  const loops = Array.from({ length: WORKERS }, async () => {
    const out: number[] = [];
    for (let i = 0; i < PER_WORKER; i++) {
      out.push(
        await httpRequest(`${server.publicUrl}/`, { timeoutMs: 15_000 }).then(
          (r) => r.status,
          () => 0,
        ),
      );
    }
    return out;
  });
  return (await Promise.all(loops)).flat();
}

/** A body type the sample app takes. */
const TEXT = { 'content-type': 'text/plain' };

const state = (s: { clients: Array<Record<string, unknown>> }, id: string) => s.clients.find((c) => c.id === id)?.state;

describe('an edge client that vanishes without a FIN (SIGSTOP)', () => {
  it('leaves rotation within ~2 x --unresponsive-after; requests keep succeeding through the other client', async () => {
    // Before this change (what --unresponsive-after 0 still does): the frozen client keeps half the requests until --idle-timeout.
    const off = await setUp(['--unresponsive-after', '0']);
    const frozenOff = off.clients[1];
    frozenOff.child.kill('SIGSTOP');
    const before = await load(off.server);
    frozenOff.child.kill('SIGKILL');

    const on = await setUp(['--unresponsive-after', `${AFTER_MS}ms`]);
    const frozen = on.clients[1];
    frozen.child.kill('SIGSTOP');
    const stoppedAt = performance.now();
    const suspected = waitForStatus(on.server, (s) => state(s, 'pi-2') === 'unresponsive').then(() => performance.now() - stoppedAt);
    const after = await load(on.server);
    const suspectedMs = await suspected;
    const failed = (statuses: number[]) => statuses.filter((s) => s !== 200).length;
    console.log(
      `requests failed while one of 2 clients is frozen (${WORKERS} loops x ${PER_WORKER} GETs, --request-timeout ${REQUEST_TIMEOUT}): ` +
        `${failed(before)}/${before.length} with --unresponsive-after 0, ${failed(after)}/${after.length} with ${AFTER_MS}ms; ` +
        `frozen client unresponsive ${Math.round(suspectedMs)} ms after SIGSTOP`,
    );
    // The first request it owes starts the clock: probe after AFTER_MS, suspected AFTER_MS later (plus the host's slack).
    expect(suspectedMs).toBeLessThan(2 * AFTER_MS + 1500);
    expect(failed(before)).toBeGreaterThan(failed(after));
    // The GETs sent to it before the suspicion are replayed on pi-1 at the suspicion: none fails.
    expect(failed(after)).toBe(0);
    const served = [];
    for (let i = 0; i < 10; i++) served.push(await httpRequest(`${on.server.publicUrl}/`, { timeoutMs: 5_000 }));
    expect(served.map((r) => [r.status, JSON.parse(r.body).instance])).toEqual(Array.from({ length: 10 }, () => [200, 'pi-1']));
    expect((await status(on.server)).clients.find((c) => c.id === 'pi-2')).toMatchObject({ state: 'unresponsive', draining: false });
    expect(await metric(on.metricsPort, 'tunnel_client_unresponsive_total')).toBe(1);
    expect(await metric(on.metricsPort, 'tunnel_clients_unresponsive')).toBe(1);
    await on.server.proc.waitForLog('edge client unresponsive: new requests go to other clients of its hosts', { client: 'pi-2' });

    // Thawed, its first bytes put it back in rotation.
    frozen.child.kill('SIGCONT');
    await waitForStatus(on.server, (s) => state(s, 'pi-2') === 'active');
    await on.server.proc.waitForLog('edge client answers again: back in rotation', { client: 'pi-2' });
    expect(await metric(on.metricsPort, 'tunnel_clients_unresponsive')).toBe(0);
    // Bounded: round-robin gives it every other request unless it is (rightly) suspected again on a starved host.
    const servedBy = new Set<string>();
    for (let i = 0; i < 20 && !servedBy.has('pi-2'); i++) {
      servedBy.add(JSON.parse((await httpRequest(`${on.server.publicUrl}/`, { timeoutMs: 10_000 })).body).instance as string);
    }
    expect(servedBy).toContain('pi-2');
  }, 90_000);

  it('fails a POST sent to it before the suspicion with 504 at --request-timeout: only bodiless GET, HEAD and OPTIONS are replayed', async () => {
    // No keep-alive ping from the server in this test: only a request can be what the frozen client owes.
    const { server, clients } = await setUp(['--unresponsive-after', `${AFTER_MS}ms`, '--ping-interval', '60s']);
    clients[1].child.kill('SIGSTOP');
    // One at a time (round-robin alternates them): until one is caught by the frozen pi-2 (bounded).
    const statuses: number[] = [];
    for (let i = 0; i < 4 && !statuses.includes(504); i++) {
      const post = await httpRequest(`${server.publicUrl}/echo`, { method: 'POST', body: 'order=1', headers: TEXT, timeoutMs: 15_000 });
      statuses.push(post.status);
    }
    expect(statuses).toContain(504);
    expect(statuses.filter((s) => s !== 504).every((s) => s === 200)).toBe(true);
    const s = await status(server);
    expect(state(s, 'pi-2')).toBe('unresponsive');
    expect(s.publicReplayed).toBe(0);
    clients[1].child.kill('SIGKILL');
  }, 60_000);

  it('does not suspect a live client whose upstream takes 10 x --unresponsive-after to answer', async () => {
    const { server, metricsPort } = await setUp(['--unresponsive-after', '300ms']);
    const slow = await httpRequest(`${server.publicUrl}/slow?ms=3000`, { timeoutMs: 15_000 });
    expect(slow.status).toBe(200);
    expect(await metric(metricsPort, 'tunnel_client_unresponsive_total')).toBe(0);
    expect((await status(server)).clients.map((c) => c.state)).toEqual(['active', 'active']);
    expect(server.proc.countLogs('edge client unresponsive: new requests go to other clients of its hosts')).toBe(0);
  }, 60_000);
});
