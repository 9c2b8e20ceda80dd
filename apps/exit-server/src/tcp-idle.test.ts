import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@tunnel/testing';
import { silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { Router } from './router.ts';
import { TcpPorts } from './tcp-ports.ts';
import { fakeEdge, stopFixtures, until } from './testing/public-fixture.ts';

let ports: TcpPorts | undefined;
afterEach(async () => {
  stopFixtures();
  await ports?.close();
});

describe('--tcp-idle-timeout', () => {
  it('closes an idle public TCP connection and resets its stream, but not one that keeps talking', async () => {
    const port = await freePort();
    const router = new Router();
    const streams: TunnelStream[] = [];
    const resets: number[] = [];
    // The edge echoes: bytes keep a connection alive both ways.
    fakeEdge(
      router,
      'a',
      [],
      (s) => {
        streams.push(s);
        s.on('error', () => resets.push(s.id));
        s.on('data', (c: Buffer) => s.write(c));
      },
      {},
      [port],
    );
    ports = new TcpPorts(router, { bind: '127.0.0.1', fixed: [port], idleTimeoutMs: 300 }, silentLogger);
    await ports.start();
    const started = performance.now();
    const idle = connect(port, '127.0.0.1');
    idle.on('error', () => {});
    const talking = connect(port, '127.0.0.1');
    talking.on('error', () => {});
    talking.on('data', () => {});
    const chatter = setInterval(() => talking.write('x'), 50);
    try {
      await new Promise<void>((r) => idle.once('close', () => r()));
      const lived = performance.now() - started;
      expect(lived).toBeGreaterThanOrEqual(250);
      expect(talking.destroyed).toBe(false); // 50 ms apart: never idle for 300 ms
      await until(() => resets.length === 1, 'the idle stream reset at the edge');
      expect(streams.length).toBe(2);
    } finally {
      clearInterval(chatter);
      talking.destroy();
    }
  });
});
