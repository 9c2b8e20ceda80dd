import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { WebSocket, type RawData } from 'ws';
import { buildApp } from './app.ts';

interface Received {
  data: RawData;
  isBinary: boolean;
}

/** Opens a client and queues every message it receives, so none is lost between awaits. */
async function connect(url: string): Promise<{ socket: WebSocket; next: () => Promise<Received> }> {
  const socket = new WebSocket(url);
  const queue: Received[] = [];
  const waiters: Array<(message: Received) => void> = [];
  socket.on('message', (data, isBinary) => {
    const waiter = waiters.shift();
    if (waiter) waiter({ data, isBinary });
    else queue.push({ data, isBinary });
  });
  await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const next = (): Promise<Received> => {
    const queued = queue.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
  };
  return { socket, next };
}

describe('GET /ws', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp({ name: 'ws' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('echoes text and binary messages unchanged, in order', async () => {
    const { socket, next } = await connect(`ws://${base}/ws`);
    const binary = Buffer.from([0, 1, 2, 253, 254, 255]);
    const large = Buffer.alloc(1024 * 1024, 7);
    socket.send('hello');
    socket.send(binary);
    socket.send('ünïcödé');
    socket.send(large);

    const text1 = await next();
    expect(text1.isBinary).toBe(false);
    expect(text1.data.toString()).toBe('hello');
    const bin = await next();
    expect(bin.isBinary).toBe(true);
    expect(Buffer.from(bin.data as Buffer).equals(binary)).toBe(true);
    expect((await next()).data.toString()).toBe('ünïcödé');
    const big = await next();
    expect(big.isBinary).toBe(true);
    expect(Buffer.from(big.data as Buffer).equals(large)).toBe(true);
    socket.close();
  });

  it('sends nothing before the client speaks', async () => {
    const { socket, next } = await connect(`ws://${base}/ws`);
    // Messages keep their order on the one connection: anything the server sent on its own before
    // our first message would arrive ahead of that message's echo (no silence window to guess).
    socket.send('first words');
    const first = await next();
    expect(first.data.toString()).toBe('first words');
    socket.close();
  });

  it('tells plain HTTP clients to upgrade', async () => {
    const res = await fetch(`http://${base}/ws`);
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
  });
});
