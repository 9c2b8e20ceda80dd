import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ResetCode, StreamResetError, silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/** Resolves with the stream's end: 'reset' (with its reason) or 'closed'. */
function outcome(s: TunnelStream): Promise<{ how: 'reset' | 'closed'; reason?: number }> {
  return new Promise((resolve) => {
    s.on('error', (err) => resolve({ how: 'reset', reason: err instanceof StreamResetError ? err.reason : undefined }));
    s.on('close', () => resolve({ how: 'closed' }));
  });
}

describe('public time limits', () => {
  it('--headers-timeout counts blank lines: CRLF every 50 ms does not keep a connection', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], () => {});
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, headersTimeoutMs: 300 }, silentLogger));
    const client = rawClient(port);
    const drip = setInterval(() => client.socket.write('\r\n'), 50);
    try {
      await client.closed;
    } finally {
      clearInterval(drip);
    }
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('--headers-timeout: a head dripped byte by byte gets 408', async () => {
    const router = new Router();
    let streams = 0;
    fakeEdge(router, 'a', [], () => streams++);
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, headersTimeoutMs: 300 }, silentLogger));
    const client = rawClient(port);
    const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'a'.repeat(200);
    let i = 0;
    const drip = setInterval(() => i < head.length && client.socket.write(head[i++]), 20);
    try {
      await client.closed;
    } finally {
      clearInterval(drip);
    }
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 [^]*--headers-timeout[^]*time limit/);
    expect(client.text()).not.toContain('not valid HTTP');
    expect(streams).toBe(0);
  });

  it('--stream-idle-timeout: an idle kept-alive connection lets go of its stream but stays open for the next request', async () => {
    const router = new Router();
    const edge = fakeEdge(router, 'a', [], (s) => s.on('data', () => s.write(OK)));
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, streamIdleTimeoutMs: 200 }, silentLogger));
    const client = rawClient(port);
    client.socket.write('GET /1 HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => client.text().endsWith('ok'), 'the first answer');
    const first = edge.streams[0];
    expect(await outcome(first)).toMatchObject({ how: 'reset' });
    expect(edge.session.activeStreams).toBe(0);
    expect(client.socket.destroyed).toBe(false);
    client.socket.write('GET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => client.text().endsWith('okHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 'the second answer');
    expect(edge.streams.length).toBe(2);
  });

  it('--send-timeout: a client that stops reading a large response is cut and the stream reset', async () => {
    const router = new Router();
    const body = Buffer.alloc(32 * 1024 * 1024, 0x61);
    let ended: ReturnType<typeof outcome> | undefined;
    fakeEdge(router, 'a', [], (s) => {
      ended = outcome(s);
      s.once('data', () => {
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
        s.write(body);
      });
    });
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, sendTimeoutMs: 300 }, silentLogger));
    const client = rawClient(port);
    client.socket.pause(); // never reads
    client.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => ended !== undefined, 'the stream');
    expect(await ended).toMatchObject({ how: 'reset' });
    client.socket.resume(); // what the kernels hold, then the end: the server cut it
    await client.closed;
    expect(client.text().length).toBeLessThan(body.length);
  });

  it('--upstream-read-timeout: an upstream that goes silent mid-response is reset with UPSTREAM_TIMEOUT and the connection cut', async () => {
    const router = new Router();
    let ended: ReturnType<typeof outcome> | undefined;
    fakeEdge(router, 'a', [], (s) => {
      ended = outcome(s);
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'));
    });
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, upstreamReadTimeoutMs: 300 }, silentLogger));
    const client = rawClient(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => ended !== undefined, 'the stream');
    expect(await ended).toEqual({ how: 'reset', reason: ResetCode.UPSTREAM_TIMEOUT });
    await client.closed;
    expect(client.text()).toBe('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
  });

  it('--upstream-read-timeout does not fire while the upstream keeps sending', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], (s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        let n = 0;
        const t = setInterval(() => {
          if (++n <= 8) s.write('1\r\nx\r\n');
          else {
            clearInterval(t);
            s.write('0\r\n\r\n');
          }
        }, 60);
      }),
    );
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, upstreamReadTimeoutMs: 200 }, silentLogger));
    const client = rawClient(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => client.text().endsWith('0\r\n\r\n'), 'the whole slow response', 5000);
    expect(client.socket.destroyed).toBe(false);
    client.socket.end();
    await once(client.socket, 'close');
  });
});
