import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

const ok = (n: number) => `HTTP/1.1 200 OK\r\ncontent-length: ${String(n).length}\r\n\r\n${n}`;

describe('pipelined requests in flight', () => {
  it('are capped at --max-pipelined-requests: the next is not read until those are answered, and every one is answered in order', async () => {
    const router = new Router();
    let upstream: TunnelStream | undefined;
    let received = '';
    fakeEdge(router, 'a', [], (s) => {
      upstream = s;
      s.on('data', (c: Buffer) => (received += c.toString('latin1')));
    });
    const heads = () => received.split('\r\n\r\n').length - 1;
    const { port, accepted } = await listenPublic(
      new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, maxPipelinedRequests: 4 }, silentLogger),
    );
    const client = rawClient(port);
    let all = '';
    for (let i = 0; i < 100; i++) all += `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
    client.socket.write(all);
    await until(() => heads() === 4 && accepted[0].isPaused(), 'four requests upstream and the socket paused');
    let answered = 0;
    while (answered < 100) {
      // Answer what is in flight; no more than the cap is ever forwarded ahead of its answers.
      await until(() => heads() > answered, `request ${answered} upstream`);
      expect(heads() - answered).toBeLessThanOrEqual(4);
      while (answered < heads()) upstream?.write(ok(answered++));
    }
    await until(() => client.text().split('HTTP/1.1 200').length === 101, 'every answer');
    const bodies = client
      .text()
      .match(/\r\n\r\n\d+/g)
      ?.map((b) => Number(b.slice(4)));
    expect(bodies).toEqual([...Array(100).keys()]);
  });
});
