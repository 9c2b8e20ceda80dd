import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Session, silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { createTransportPair } from '@tunnel/tunnel-protocol/testing';
import { ClientConn } from './client-conn.ts';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

/** A connected client whose far end answers with `serve` (or refuses every stream when undefined). */
function connect(router: Router, id: string, serve?: (s: TunnelStream) => void): ClientConn {
  const [a, b] = createTransportPair();
  const server = new Session({ role: 'server', transport: a, limits: { pingIntervalMs: 0 } });
  const edge = new Session({ role: 'client', transport: b, limits: { pingIntervalMs: 0 }, onStream: serve });
  const conn = new ClientConn(id, { version: 1, clientId: id, hostnames: [], tcpPorts: [], capabilities: ['http'] }, server, '127.0.0.1');
  router.add(conn);
  cleanups.push(() => {
    server.close();
    edge.close();
  });
  return conn;
}

const ok = (s: TunnelStream) => {
  s.resume();
  s.reply({ status: 200, statusMessage: '', headers: ['content-length', '2'] });
  s.end('ok');
};

async function listen(handler: PublicHttp): Promise<string> {
  const server: Server = createServer(handler.handleRequest);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function send(url: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/x`, { method, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('PublicHttp', () => {
  it('retries a bodiless request that a client refused on the next client', async () => {
    const router = new Router();
    connect(router, 'refuses'); // no stream handler: every OPEN is answered REFUSED
    connect(router, 'serves', ok);
    const url = await listen(new PublicHttp(router, { requestTimeoutMs: 5000, trustProxy: false }, silentLogger));
    for (let i = 0; i < 4; i++) expect(await send(url)).toEqual({ status: 200, body: 'ok' });
  });

  it('does not retry a request with a body: a refusal is a 503', async () => {
    const router = new Router();
    connect(router, 'refuses');
    const url = await listen(new PublicHttp(router, { requestTimeoutMs: 5000, trustProxy: false }, silentLogger));
    const res = await send(url, 'POST', 'payload');
    expect(res.status).toBe(503);
  });

  it('answers 503 while draining and counts requests with no route', async () => {
    const router = new Router();
    const handler = new PublicHttp(router, { requestTimeoutMs: 5000, trustProxy: false }, silentLogger);
    const url = await listen(handler);
    expect((await send(url)).status).toBe(503);
    expect(handler.counters.noRoute).toBe(1);
    handler.draining = true;
    connect(router, 'serves', ok);
    expect(await send(url)).toMatchObject({ status: 503, body: 'exit server is shutting down\n' });
  });
});
