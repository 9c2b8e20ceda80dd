import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, generatedBody, httpRequest } from '@tunnel/testing';
import { whoAnswers } from './support/http.ts';
import { Topology, type ExitNode, type Node } from './support/topology.ts';

// Scenario 8: a Raspberry Pi for real: the linux/arm64 edge-client and sample-app images, run
// under qemu emulation, serving through the amd64 exit server.
const MiB = 1024 * 1024;
let topo: Topology;
let exit: ExitNode;
let app: Node;
let client: Node;

beforeAll(async () => {
  topo = await Topology.create('arm64');
  [exit, app] = await Promise.all([topo.exitServer(), topo.sampleApp('pi-arm64', { arch: 'arm64' })]);
  client = await topo.edgeClient('pi-arm64', exit, app, { arch: 'arm64' });
  await exit.waitForClients(['pi-arm64']);
});
afterAll(async () => topo?.destroy());

describe('arm64 edge client and app (emulated) behind an amd64 exit server', () => {
  it('8a. the device-side images and processes are arm64, the exit server amd64', async () => {
    for (const [node, arch] of [
      [client, 'arm64'],
      [app, 'arm64'],
      [exit, 'x64'],
    ] as const) {
      const image = (await node.inspect()).Image;
      const r = await node.exec(['node', '-p', 'process.arch + " " + require("os").machine()']);
      expect(r.exitCode).toBe(0);
      expect(r.output).toBe(arch === 'x64' ? 'x64 x86_64' : 'arm64 aarch64');
      expect(image).toMatch(/^sha256:/);
    }
  });

  it('8b. serves requests end to end: GET, a checksummed download and an upload', async () => {
    const who = await whoAnswers(exit.publicUrl);
    expect(who).toMatchObject({ status: 200, instance: 'pi-arm64' });
    // up to 64 MiB the app sends the body's sha256 as a header (computed on the arm64 side)
    const got = await download(`${exit.publicUrl}/bytes/${8 * MiB}?seed=64`);
    expect(got.status).toBe(200);
    expect(got.bytes).toBe(8 * MiB);
    expect(got.sha256).toBe(got.headers['x-sha256']);
    const body = generatedBody(4 * MiB);
    const res = await httpRequest(`${exit.publicUrl}/echo`, { method: 'POST', body: body.stream });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ bodyBytes: 4 * MiB, bodySha256: body.sha256() });
    const s = await exit.status();
    expect(s.clients.map((c) => c.id)).toEqual(['pi-arm64']);
    expect(s.clients[0].requestsServed).toBeGreaterThanOrEqual(3);
  });
});
