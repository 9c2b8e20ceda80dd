import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, newToken } from '@tunnel/testing';
import { tally, whoAnswers } from './support/http.ts';
import { Topology, type ExitNode, type Node } from './support/topology.ts';

// Scenarios 1-3: routing through the NAT-like topology, isolation of the edge network, wrong token.
let topo: Topology;
let exit: ExitNode;
let app1: Node;
let app2: Node;
let client1: Node;

beforeAll(async () => {
  topo = await Topology.create('routing');
  [exit, app1, app2] = await Promise.all([topo.exitServer(), topo.sampleApp('pi-1'), topo.sampleApp('pi-2')]);
  [client1] = await Promise.all([topo.edgeClient('pi-1', exit, app1), topo.edgeClient('pi-2', exit, app2)]);
  await exit.waitForClients(['pi-1', 'pi-2']);
});
afterAll(async () => topo?.destroy());

describe('routing through containers', () => {
  it('1. serves public requests on the mapped port from the apps behind the edge clients, split evenly', async () => {
    const first = await whoAnswers(exit.publicUrl);
    expect(first.status).toBe(200);
    expect(['pi-1', 'pi-2']).toContain(first.instance);

    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const answers: Array<{ status: number; instance?: string }> = [];
    // 4 concurrent callers, 50 requests each
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 50; i++) answers.push(await whoAnswers(exit.publicUrl, agent));
      }),
    );
    agent.destroy();
    expect(answers).toHaveLength(200);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const split = tally(answers, (a) => a.instance ?? 'none');
    console.log(`[routing] 200 requests split ${JSON.stringify(split)}`);
    expect(Object.keys(split).sort()).toEqual(['pi-1', 'pi-2']);
    // round-robin: each client within ±10% of half
    expect(split['pi-1']).toBeGreaterThanOrEqual(90);
    expect(split['pi-1']).toBeLessThanOrEqual(110);
    expect(split['pi-2']).toBeGreaterThanOrEqual(90);
    expect(split['pi-2']).toBeLessThanOrEqual(110);
    // the exit server counted them the same way
    const served = Object.fromEntries((await exit.status()).clients.map((c) => [c.id, c.requestsServed]));
    expect(served['pi-1'] + served['pi-2']).toBeGreaterThanOrEqual(201);
  });

  it('2. the exit server has no route to the sample apps, yet the tunnel reaches them', async () => {
    const appIp = (await app1.ip(topo.networks.edge)) ?? '';
    expect(appIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // the exit server is on wan only; the app on the internal edge network only
    expect(Object.keys((await exit.inspect()).NetworkSettings.Networks)).toEqual([topo.networks.wan]);
    expect(Object.keys((await app1.inspect()).NetworkSettings.Networks)).toEqual([topo.networks.edge]);

    // positive control: the same probe from the edge client (on both networks) connects
    const fromClient = await client1.probeTcp(appIp, 3000, 10_000);
    expect(fromClient.output).toBe('CONNECTED');
    // from the exit server: by address it cannot connect, by name it cannot even resolve
    const byIp = await exit.probeTcp(appIp, 3000);
    expect(byIp.exitCode).not.toBe(0);
    expect(byIp.output).toMatch(/^(TIMEOUT|ERROR E(HOSTUNREACH|NETUNREACH|CONNREFUSED|TIMEDOUT))$/);
    const byName = await exit.probeTcp(app1.name, 3000);
    expect(byName.exitCode).not.toBe(0);
    expect(byName.output).toMatch(/^ERROR (ENOTFOUND|EAI_AGAIN)$/);

    // and the apps have no way out either (internal network): not to the exit server's address
    const exitIp = (await exit.ip(topo.networks.wan)) ?? '';
    expect(exitIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const out = await app1.probeTcp(exitIp, 8000);
    expect(out.exitCode).not.toBe(0);

    // yet through the tunnel both apps answer
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 4; i++) {
      const r = await whoAnswers(exit.publicUrl);
      expect(r.status).toBe(200);
      seen.add(r.instance);
    }
    expect([...seen].sort()).toEqual(['pi-1', 'pi-2']);
  });

  it('3. wrong token: the client is refused with 401, nothing is registered, public requests get 503', async () => {
    // a second exit server on the same wan, with its own token; the client presents another one
    const lonely = await topo.exitServer();
    const intruder = await topo.edgeClient('intruder', lonely, app1, { token: `wrong-${newToken()}`, waitConnected: false });
    const refused = await intruder.logs.waitForLog(
      'exit server refused the token (TUN_ERR_AUTH): check --token-env/--token-file on both ends; retrying with backoff in case the secret is being rotated',
    );
    expect(refused).toMatchObject({ status: 401, code: 'TUN_ERR_AUTH' });
    await lonely.logs.waitForLog('refused edge client', { fields: { status: 401 } });
    // it keeps retrying (the secret may be rotated), and is refused every time
    await intruder.logs.waitForLine((l) => l.includes('reconnecting after backoff') && l.includes('"attempt":2'), 30_000, 'second retry');
    expect(intruder.logs.logs('tunnel established')).toEqual([]);
    expect((await lonely.status()).clients).toEqual([]);
    const res = await httpRequest(`${lonely.publicUrl}/`);
    expect(res.status).toBe(503);
    // /status itself wants the admin token: neither a wrong token nor the client token opens it
    await expect(lonely.status('not-the-token')).rejects.toThrow(/401/);
    await expect(lonely.status(lonely.token)).rejects.toThrow(/401/);
    // neither token ever appears in the logs
    for (const line of [...lonely.logs.lines, ...intruder.logs.lines]) {
      expect(line).not.toContain(lonely.token);
      expect(line).not.toContain(lonely.adminToken);
    }
  });
});
