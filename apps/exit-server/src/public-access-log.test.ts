import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures } from './testing/public-fixture.ts';

afterEach(stopFixtures);

/** A public side whose finished requests (access log and metrics) are collected as `METHOD path status`. */
function recording(router: Router, opts = TEST_PUBLIC_OPTIONS): { handler: PublicHttp; done: string[] } {
  const handler = new PublicHttp(router, opts, silentLogger);
  const done: string[] = [];
  const requestDone = handler.requestDone.bind(handler);
  handler.requestDone = (p, status, client, series) => {
    done.push(`${p.method} ${p.target} ${status}`);
    requestDone(p, status, client, series);
  };
  return { handler, done };
}

describe('requests the exit server fails or refuses are logged and counted', () => {
  it.each([
    [
      'the upstream closes without answering',
      'GET /a HTTP/1.1\r\nHost: a\r\n\r\n',
      (s: TunnelStream) => s.once('data', () => s.end()),
      'GET /a 502',
    ],
    [
      'the upstream answers with invalid HTTP',
      'GET /a HTTP/1.1\r\nHost: a\r\n\r\n',
      (s: TunnelStream) => s.once('data', () => s.write('HTTP/1.1 2000 Nope\r\n\r\n')),
      'GET /a 502',
    ],
    ['its chunked body is malformed', 'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', () => {}, 'POST /a 400'],
  ])('when %s', async (_name, request, upstream, line) => {
    const router = new Router();
    fakeEdge(router, 'a', [], upstream);
    const { handler, done } = recording(router);
    const { port } = await listenPublic(handler);
    const client = rawClient(port);
    client.socket.write(request);
    await client.closed;
    expect(client.text()).toMatch(new RegExp(`^HTTP/1\\.1 ${line.slice(-3)} `));
    expect(done).toEqual([line]);
  });
});
