import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

describe('the public side, strict both ways', () => {
  it('routes an absolute-form request by its authority and forwards it in origin form', async () => {
    const router = new Router();
    let victim = '';
    let other = '';
    fakeEdge(router, 'victim', ['victim.test'], (s) => s.on('data', (c: Buffer) => (victim += c.toString('latin1'))));
    fakeEdge(router, 'other', ['other.test'], (s) => s.on('data', (c: Buffer) => (other += c.toString('latin1'))));
    const { port } = await listenPublic(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    rawClient(port).socket.write('GET http://victim.test/p HTTP/1.1\r\nHost: other.test\r\nX_Forwarded_For: 6.6.6.6\r\n\r\n');
    await until(() => victim.includes('\r\n\r\n'), 'the request at victim.test');
    expect(victim.startsWith('GET /p HTTP/1.1\r\nHost: victim.test\r\n')).toBe(true);
    expect(victim).not.toContain('_');
    expect(victim).not.toContain('6.6.6.6');
    expect(other).toBe('');
  });

  it('forwards a response with both Content-Length and Transfer-Encoding as chunked only', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], (s) =>
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')),
    );
    const { port } = await listenPublic(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const client = rawClient(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => client.text().endsWith('0\r\n\r\n'), 'the whole response');
    expect(client.text()).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  });

  it('answers 400 to a chunked request whose trailers hold an obs-fold, and forwards nothing of them', async () => {
    const router = new Router();
    let seen = '';
    fakeEdge(router, 'a', [], (s) => s.on('data', (c: Buffer) => (seen += c.toString('latin1'))));
    const { port } = await listenPublic(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const client = rawClient(port);
    client.socket.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX: 1\r\n folded\r\n\r\n');
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen).not.toContain('folded');
  });
});
