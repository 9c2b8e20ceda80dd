import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Wait } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, newToken, waitFor } from '@tunnel/testing';
import { baseImage, dockerOk, repoRoot } from './support/docker.ts';
import { tally, whoAnswers } from './support/http.ts';
import { Node, Topology, type ExitNode } from './support/topology.ts';

// Scenario: scale-out in containers. 3 exit servers share the Docker network alias `exit-peers`
// and find each other with --peers-dns (every A record of the alias); a load balancer in a
// locally built image (e2e-containers/lb: a small Node TCP balancer, since HAProxy's image
// cannot be pulled) fronts their public and control ports; 2 edge clients, one of them arm64
// under qemu, dial only the load balancer and must attach to every exit server.
const ALIAS = 'exit-peers';
const SERVER_ENV = {
  TUNNEL_PEERS_DNS: `${ALIAS}:8123`,
  TUNNEL_PEER_INTERVAL: '500ms',
  TUNNEL_PEER_TIMEOUT: '3s',
  TUNNEL_DRAIN_DELAY: '1500ms',
  TUNNEL_DRAIN_TIMEOUT: '10s',
  TUNNEL_READY_TIMEOUT: '60s',
};
const CLIENTS = ['pi-amd64', 'pi-arm64'];

let topo: Topology;
let servers: ExitNode[] = [];
let lb: Node;

/** Builds the load balancer's image on the local base image (never pulls); tag = hash of its files. */
async function buildLbImage(): Promise<string> {
  const dir = `${repoRoot}e2e-containers/lb`;
  const hash = createHash('sha256')
    .update(readFileSync(`${dir}/Dockerfile`))
    .update(readFileSync(`${dir}/tcp-lb.mjs`))
    .digest('hex')
    .slice(0, 16);
  const tag = `tunnel-e2e/tcp-lb:${hash}`;
  await dockerOk(['build', '--build-arg', `BASE_IMAGE=${baseImage('amd64')}`, '-t', tag, dir]);
  return tag;
}

function lbUrl(port: 8000 | 8123): string {
  return `http://127.0.0.1:${lb.container.getMappedPort(port)}`;
}

async function instanceIds(): Promise<string[]> {
  return Promise.all(servers.map(async (s) => (await s.status()).instanceId as string));
}

/** Every server lists both clients (serving), each also attached to the other two servers. */
async function everyServerHasEveryClient(timeoutMs: number): Promise<void> {
  const ids = await instanceIds();
  await Promise.all(
    servers.map((s, i) =>
      s.waitForStatus(
        (st) => {
          const serving = st.clients.filter((c) => !c.draining);
          const others = ids.filter((_, j) => j !== i);
          return (
            CLIENTS.every((id) => serving.filter((c) => c.id === id).length === 1) &&
            serving.every((c) => others.every((o) => (c.alsoAttachedTo as string[]).includes(o)))
          );
        },
        'both clients attached to every server',
        timeoutMs,
      ),
    ),
  );
}

beforeAll(async () => {
  topo = await Topology.create('scaleout');
  const token = newToken();
  const lbImage = await buildLbImage();
  servers = await Promise.all([0, 1, 2].map(() => topo.exitServer({ token, aliases: [ALIAS], env: SERVER_ENV })));
  const { c, name, logs } = topo.container(lbImage, 'lb');
  const started = await c
    .withNetworkMode(topo.networks.wan)
    .withEnvironment({ BACKENDS: ALIAS, CHECK_MS: '250' })
    .withExposedPorts(8000, 8123)
    .withWaitStrategy(Wait.forLogMessage(/"msg":"load balancer listening"/))
    .start();
  lb = new Node(name, started, logs);
  topo.nodes.push(lb);
  const [appAmd, appArm] = await Promise.all([topo.sampleApp('pi-amd64'), topo.sampleApp('pi-arm64', { arch: 'arm64' })]);
  const url = `ws://${name}:8123`;
  await Promise.all([
    topo.edgeClient('pi-amd64', servers[0], appAmd, { url }),
    topo.edgeClient('pi-arm64', servers[0], appArm, { url, arch: 'arm64' }),
  ]);
});
afterAll(async () => topo?.destroy());

describe('scale-out in containers (--peers-dns on a network alias)', () => {
  it('every exit server lists both clients (one arm64 under qemu), each attached to the other two', async () => {
    const t0 = Date.now();
    await everyServerHasEveryClient(60_000);
    console.log(`[scaleout] both clients on all 3 exit servers ${Date.now() - t0} ms after they connected`);
    // Each server resolves the alias to all three addresses: two live peers and itself.
    for (const s of servers)
      expect(((await s.status()).peers as Array<{ state: string }>).map((p) => p.state).sort()).toEqual(['live', 'live', 'self']);
  });

  it('200 public requests through the load balancer all succeed, answered by both apps', async () => {
    const answers = (
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const got: Array<{ status: number; instance?: string }> = [];
          for (let i = 0; i < 50; i++) got.push(await whoAnswers(lbUrl(8000)));
          return got;
        }),
      )
    ).flat();
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const split = tally(answers, (a) => a.instance ?? 'none');
    console.log(`[scaleout] 200 requests through the load balancer: ${JSON.stringify(split)}`);
    expect(Object.keys(split).sort()).toEqual(['pi-amd64', 'pi-arm64']);
  });

  it('restarting one exit server under load fails no request; the clients attach to its new instance', async () => {
    const before = (await servers[1].status()).instanceId;
    let running = true;
    const failures: string[] = [];
    let total = 0;
    const workers = Array.from({ length: 4 }, async () => {
      while (running) {
        total++;
        try {
          const res = await httpRequest(`${lbUrl(8000)}/`, { timeoutMs: 30_000 });
          if (res.status !== 200) failures.push(`HTTP ${res.status} ${res.body.slice(0, 100)}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    await servers[1].restart(15_000);
    await everyServerHasEveryClient(60_000);
    expect((await servers[1].status()).instanceId).not.toBe(before);
    const atAttach = total;
    await waitFor(() => total >= atAttach + 50, { timeoutMs: 60_000, what: '50 more requests after the re-attach' });
    running = false;
    await Promise.all(workers);
    console.log(`[scaleout] restart of one exit server under load: ${total} requests, ${failures.length} failed`, failures.slice(0, 5));
    expect(failures).toEqual([]);
  });
});
