import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/** An upstream that answers every request head it sees with OK and never closes (not even after `Connection: close`). */
function stubbornEdge(router: Router): { received: () => string } {
  let received = '';
  fakeEdge(router, 'a', [], (s: TunnelStream) =>
    s.on('data', (c: Buffer) => {
      const before = received.split('\r\n\r\n').length;
      received += c.toString('latin1');
      for (let i = before; i < received.split('\r\n\r\n').length; i++) s.write(OK);
    }),
  );
  return { received: () => received };
}

describe('the last request of a connection (RFC 9112 9.6)', () => {
  it.each([
    ['Connection: close', 'GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
    ['HTTP/1.0 without keep-alive', 'GET /a HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['Connection: close with a body', 'POST /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc'],
  ])('after %s, requests pipelined behind it are not forwarded; it is answered and the connection closes', async (_name, last) => {
    const router = new Router();
    const edge = stubbornEdge(router);
    const { port } = await listenPublic(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const client = rawClient(port);
    client.socket.write(`${last}GET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n`);
    await client.closed;
    expect(client.text()).toBe(OK);
    await until(() => edge.received().includes('/a'), 'the last request upstream');
    expect(edge.received()).not.toMatch(/GET \/[bc]/);
  });
});
