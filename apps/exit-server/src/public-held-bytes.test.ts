import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type TunnelStream } from '@tunnel/tunnel-protocol';
import { PublicHttp } from './public-http.ts';
import { Router } from './router.ts';
import { TEST_PUBLIC_OPTIONS, fakeEdge, listenPublic, rawClient, stopFixtures, until } from './testing/public-fixture.ts';

afterEach(stopFixtures);

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n';
const MiB = 1024 * 1024;

describe('bytes held for a public connection before its stream is ready', () => {
  it('after Connection: upgrade, stops reading the socket until the answer, then passes everything on', async () => {
    const router = new Router();
    let upstream: TunnelStream | undefined;
    let received = 0;
    fakeEdge(router, 'a', [], (s) => {
      upstream = s;
      s.on('data', (c: Buffer) => (received += c.length));
    });
    const { port, accepted } = await listenPublic(new PublicHttp(router, TEST_PUBLIC_OPTIONS, silentLogger));
    const client = rawClient(port);
    client.socket.write(UPGRADE);
    await until(() => received > 0, 'the upgrade request upstream');
    const headBytes = received;
    // 16 MiB the client may not send yet: the server must not take it in.
    const junk = Buffer.alloc(16 * MiB, 0x61);
    client.socket.write(junk);
    const server = accepted[0];
    await until(() => server.isPaused(), 'the server to stop reading');
    // Ready once the kernel's buffers are full: the client's write buffer stops shrinking.
    let last = -1;
    let still = 0;
    await until(() => {
      const now = client.socket.writableLength;
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 10;
    }, 'the kernel buffers to fill');
    expect(client.socket.writableLength).toBeGreaterThan(8 * MiB);
    expect(server.bytesRead).toBeLessThan(headBytes + TEST_PUBLIC_OPTIONS.maxHeldBytes + 1 * MiB);
    expect(received).toBe(headBytes); // nothing forwarded before the answer
    // The upstream switches protocols: the held bytes and the rest flow on.
    upstream?.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
    await until(() => received === headBytes + junk.length, 'all 16 MiB upstream');
    await until(() => client.text().startsWith('HTTP/1.1 101'), 'the 101 answer');
  });

  it('answers 413 to an upgrade request followed at once by more than --max-held-bytes', async () => {
    const router = new Router();
    let received = 0;
    fakeEdge(router, 'a', [], (s) => s.on('data', (c: Buffer) => (received += c.length)));
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, maxHeldBytes: 4096 }, silentLogger));
    const client = rawClient(port);
    client.socket.write(Buffer.concat([Buffer.from(UPGRADE), Buffer.alloc(64 * 1024, 0x62)]));
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 413 /); // the upgrade request's answer
    // At most the re-written upgrade head reached the edge, none of the 64 KiB behind it.
    expect(received).toBeLessThanOrEqual(UPGRADE.length + 200);
  });

  it('cuts a connection whose pipelined bytes behind a request to another host pass the bound', async () => {
    const router = new Router();
    let seen = '';
    // Never answers: the pipelined request to host b must wait behind the one to host a.
    fakeEdge(router, 'a', [], (s) => s.on('data', (c: Buffer) => (seen += c.toString('latin1'))));
    const { port } = await listenPublic(new PublicHttp(router, { ...TEST_PUBLIC_OPTIONS, maxHeldBytes: 4096 }, silentLogger));
    const client = rawClient(port);
    // The second request (another Host) waits for the first answer; 64 KiB of body behind it overflow the bound.
    client.socket.write(
      Buffer.concat([
        Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: b\r\nContent-Length: 65536\r\n\r\n'),
        Buffer.alloc(65536, 0x63),
      ]),
    );
    await client.closed;
    expect(client.text()).toBe(''); // a 413 would read as the answer to the first request: cut instead
    expect(seen).toContain('GET / HTTP/1.1');
    expect(seen).not.toContain('POST');
  });
});
