import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken, startEdgeClient, startExitServer, stopAll, waitForStatus, type ExitServerProc, type Proc } from '@tunnel/testing';

const token = newToken();
let upstream: Server;
let upstreamUrl: string;

beforeAll(async () => {
  // Echoes the fields it got, names as sent and repeats kept.
  upstream = createServer((req, res) => res.end(JSON.stringify(req.rawHeaders)));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await stopAll();
  upstream.close();
});

/** One request written as raw bytes (so names keep their case and repeats), and the fields the upstream saw. */
function through(port: number, fields: string): Promise<Array<[string, string]>> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      if (!text.startsWith('HTTP/1.1 200 ')) return reject(new Error(`not answered 200: ${text.slice(0, 200)}`));
      const flat = JSON.parse(body) as string[];
      resolve(flat.flatMap((name, i) => (i % 2 === 0 ? [[name.toLowerCase(), flat[i + 1]] as [string, string]] : [])));
    });
    s.end(`GET /echo HTTP/1.1\r\nHost: app.test\r\n${fields}Connection: close\r\n\r\n`);
  });
}

const FORGED =
  'Forwarded: for=1.2.3.4;host=evil.example;proto=https\r\nX-Real-IP: 1.2.3.4\r\nx-real-ip: 5.5.5.5\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.7\r\n' +
  'X-FORWARDED-HOST: evil.example\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Prefix: /admin\r\n' +
  'x-forwarded-server: evil\r\nX-Forwarded-Ssl: on\r\nX-Keep: yes\r\n';

async function tunnel(args: string[], id: string): Promise<{ server: ExitServerProc; edge: Proc }> {
  const server = await startExitServer(token, args);
  const edge = await startEdgeClient(token, server.controlUrl, id, [upstreamUrl]);
  await waitForStatus(server, (st) => st.clients.length === 1);
  return { server, edge };
}

describe('forwarding headers a public client sends', () => {
  it('never reach the app without --trust-proxy: the tunnel sets X-Forwarded-For/-Proto/-Host and X-Real-IP from the peer', async () => {
    const { server } = await tunnel([], 'plain');
    const seen = await through(server.port, FORGED);
    const forwarding = seen.filter(([n]) => n === 'forwarded' || n === 'x-real-ip' || n.startsWith('x-forwarded'));
    expect(forwarding).toEqual([
      ['x-forwarded-for', '127.0.0.1'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'app.test'],
      ['x-real-ip', '127.0.0.1'],
    ]);
    expect(seen).toContainEqual(['x-keep', 'yes']);
    const id = seen.find(([n]) => n === 'x-request-id')?.[1];
    expect(await server.proc.waitForLog('request', { requestId: id })).toMatchObject({ remote: '127.0.0.1' });
  });

  it('with --trust-proxy keep the proxy chain, proto and port only; X-Real-IP is the last hop, as logged', async () => {
    const { server } = await tunnel(['--trust-proxy'], 'trusted');
    const seen = await through(server.port, `X-Request-Id: fwd-e2e-1\r\n${FORGED}`);
    const forwarding = seen.filter(([n]) => n === 'forwarded' || n === 'x-real-ip' || n.startsWith('x-forwarded'));
    expect(forwarding).toEqual([
      ['x-forwarded-for', '6.6.6.6, 198.51.100.7, 127.0.0.1'],
      ['x-forwarded-proto', 'https'],
      ['x-forwarded-host', 'app.test'],
      ['x-forwarded-port', '443'],
      ['x-real-ip', '198.51.100.7'],
    ]);
    expect(await server.proc.waitForLog('request', { requestId: 'fwd-e2e-1' })).toMatchObject({ remote: '198.51.100.7' });
  });
});
