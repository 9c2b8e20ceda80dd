import { afterEach, describe, expect, it } from 'vitest';
import { StreamResetError, silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const head = (length: number) => `POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n\r\n`;

/** Resolves once the stream is reset (true) or closes cleanly (false). */
function wasReset(s: TunnelStream): Promise<boolean> {
  return new Promise((resolve) => {
    s.on('error', (err) => resolve(err instanceof StreamResetError));
    s.on('close', () => resolve(false));
  });
}

describe('request bodies and their time limits', () => {
  it('an upload longer than --request-timeout that keeps sending is answered: the wait for the answer starts when it is read', async () => {
    const router = new Router();
    const size = 8 * 1024;
    fakeEdge(router, 'a', [], (s) => {
      let got = 0;
      s.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= head(size).length + size) s.write(OK);
      });
    });
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, requestTimeoutMs: 200 }, silentLogger));
    const client = rawClient(port);
    client.socket.write(head(size));
    // 8 pieces 60 ms apart: the upload takes about 480 ms, more than twice --request-timeout.
    let sent = 0;
    const pace = setInterval(() => {
      client.socket.write(Buffer.alloc(size / 8, 0x61));
      if (++sent === 8) clearInterval(pace);
    }, 60);
    await until(() => client.text().length > 0, 'an answer');
    clearInterval(pace);
    expect(client.text()).toBe(OK);
  });

  it('--body-timeout: a body that stops before the answer gets 408 and its stream is reset', async () => {
    const router = new Router();
    let reset: Promise<boolean> | undefined;
    fakeEdge(router, 'a', [], (s) => (reset = wasReset(s)));
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, bodyTimeoutMs: 200 }, silentLogger));
    const client = rawClient(port);
    client.socket.write(`${head(100)}ab`);
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 [^]*--body-timeout[^]*time limit/);
    expect(client.text()).not.toContain('not valid HTTP');
    expect(await reset).toBe(true);
  });

  it('--body-timeout: a body that stops after an early answer is cut and its stream reset', async () => {
    const router = new Router();
    let reset: Promise<boolean> | undefined;
    fakeEdge(router, 'a', [], (s) => {
      reset = wasReset(s);
      s.once('data', () => s.write(OK)); // answers at the head, as an upstream refusing the upload would
    });
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, bodyTimeoutMs: 200 }, silentLogger));
    const client = rawClient(port);
    client.socket.write(`${head(100)}ab`);
    await client.closed;
    expect(client.text()).toBe(OK);
    expect(await reset).toBe(true);
  });

  it('a body the upstream does not take is the upstream’s delay: 504 after --request-timeout, not 408', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], (s) => s.pause()); // never reads: the stream's window fills
    const opts = { ...TEST_PUBLIC_OPTIONS, bodyTimeoutMs: 200, requestTimeoutMs: 600 };
    const { port } = await listenPublic(new PublicHttp(router, opts, silentLogger));
    const client = rawClient(port);
    const size = 16 * 1024 * 1024;
    client.socket.write(head(size));
    client.socket.write(Buffer.alloc(size, 0x61));
    await until(() => client.text().length > 0, 'an answer');
    expect(client.text()).toMatch(/^HTTP\/1\.1 504 /);
  });
});

describe('Expect: 100-continue', () => {
  const expecting = `POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n`;
  const opts = { ...TEST_PUBLIC_OPTIONS, bodyTimeoutMs: 200, requestTimeoutMs: 600 };

  it('a client waiting for its 100 is not late: the upstream is (504 after --request-timeout, not 408)', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], () => {}); // never answers, not even 100
    const { port } = await listenPublic(new PublicHttp(router, opts, silentLogger));
    const client = rawClient(port);
    client.socket.write(expecting);
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 504 /);
  });

  it('once the 100 is sent, a body that does not come gets 408 after --body-timeout', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], (s) => s.once('data', () => s.write('HTTP/1.1 100 Continue\r\n\r\n')));
    const { port } = await listenPublic(new PublicHttp(router, opts, silentLogger));
    const client = rawClient(port);
    client.socket.write(expecting);
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 408 /);
  });
});

describe('a connection answered with an error', () => {
  it('is closed after --keep-alive-timeout when its client keeps it open (its reading was paused: the client’s end never arrives)', async () => {
    const router = new Router();
    fakeEdge(router, 'a', [], (s) => s.pause());
    const opts = { ...TEST_PUBLIC_OPTIONS, requestTimeoutMs: 200, keepAliveTimeoutMs: 300 };
    const { port } = await listenPublic(new PublicHttp(router, opts, silentLogger));
    const client = rawClient(port);
    const size = 16 * 1024 * 1024;
    client.socket.write(head(size));
    client.socket.write(Buffer.alloc(size, 0x61)); // more than the stream and the kernels take: never flushed
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 504 /);
  });
});
