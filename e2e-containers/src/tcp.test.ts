import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, type ExitNode, type Node } from './support/topology.ts';

// Scenario 9: raw TCP through the tunnel in the NAT-like topology. The TCP service sits on the
// internal edge network; the exit server publishes TCP port 2222 and reaches it only through
// the edge client's `--tcp 2222=<service>:7000` (echo) / `2223=<service>:7001` (hash on FIN).
const SERVICE = `
const net = require('net'), crypto = require('crypto');
net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(7000);
net.createServer({ allowHalfOpen: true }, (s) => {
  const h = crypto.createHash('sha256'); let n = 0;
  s.on('data', (d) => { n += d.length; h.update(d); });
  s.on('end', () => s.end(n + ' ' + h.digest('hex')));
}).listen(7001, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
`;

let topo: Topology;
let exit: ExitNode;
let client: Node;

beforeAll(async () => {
  topo = await Topology.create('tcp');
  const [e, app, service] = await Promise.all([
    topo.exitServer({ env: { TUNNEL_TCP_PORT: '2222,2223' }, tcpPorts: [2222, 2223] }),
    topo.sampleApp('pi-1'),
    topo.tcpService('tcp-service', SERVICE),
  ]);
  exit = e;
  client = await topo.edgeClient('pi-1', exit, app, { args: ['--tcp', `2222=${service.name}:7000`, '--tcp', `2223=${service.name}:7001`] });
  await exit.waitForStatus((s) => s.clients.some((c) => (c.tcpPorts as number[]).includes(2223)), 'client serves TCP 2222 and 2223');
});
afterAll(async () => topo?.destroy());

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: exit.container.getMappedPort(port), allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function readToEnd(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => {
      s.end();
      resolve(text);
    });
    s.once('error', reject);
  });
}

describe('TCP mode through containers', () => {
  it('9. carries an interactive exchange and 10 MB with half-close to a service only the edge client can reach', async () => {
    const echo = await dial(2222);
    for (const line of ['hello\n', 'SSH-2.0-probe\r\n']) {
      echo.write(line);
      const [reply] = (await once(echo, 'data')) as [Buffer];
      expect(reply.toString()).toBe(line);
    }
    echo.end();

    const sink = await dial(2223);
    const answer = readToEnd(sink);
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 160; i++) {
      chunk.fill(i & 0xff);
      hash.update(chunk);
      if (!sink.write(Buffer.from(chunk))) await once(sink, 'drain');
    }
    sink.end();
    expect(await answer).toBe(`${160 * 64 * 1024} ${hash.digest('hex')}`);
    const port = ((await exit.status()).tcpPorts as Array<{ port: number; connections: number }>).find((p) => p.port === 2223);
    expect(port?.connections).toBeGreaterThanOrEqual(1);
  });

  it('9. keeps an open TCP connection working while its edge client drains on SIGTERM', async () => {
    const s = await dial(2222);
    s.write('before\n');
    await once(s, 'data');
    const stopped = client.stop(30_000);
    await exit.waitForStatus((st) => st.clients.every((c) => c.draining === true), 'client draining');
    s.write('during drain\n');
    const [reply] = (await once(s, 'data')) as [Buffer];
    expect(reply.toString()).toBe('during drain\n');
    s.end();
    await readToEnd(s);
    expect(await stopped).toBe(0);
  });
});
