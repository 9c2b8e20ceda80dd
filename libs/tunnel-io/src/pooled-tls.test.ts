import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isBorrowed } from '@tunnel/tunnel-protocol';
import { throwAwayCertificate } from '@tunnel/testing';
import { ReadBufferPool } from './read-pool.ts';
import { readIntoPool } from './pooled-socket.ts';
import { userBufferFields } from './pooled-tls.ts';

let cert: Buffer;
let key: Buffer;
let remove = (): void => {};
beforeAll(() => {
  ({ cert, key, remove } = throwAwayCertificate());
});
afterAll(() => remove());

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** An https server whose upgraded sockets arrive with what came after the head; and a client that upgraded, sending `early` with its request. */
async function upgradedPair(early: Buffer): Promise<{ client: TLSSocket; upgraded: Socket; head: Buffer }> {
  const server: Server = createServer({ cert, key });
  const upgradeP = once(server, 'upgrade') as Promise<[IncomingMessage, Socket, Buffer]>;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ca: cert });
  await once(client, 'secureConnect');
  client.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n'), early]));
  const [, upgraded, head] = await upgradeP;
  cleanups.push(() => {
    client.destroy();
    upgraded.destroy();
    server.close();
  });
  return { client, upgraded, head };
}

describe('readIntoPool on TLS sockets', () => {
  it('finds the onread fields on this node (a change in node fails here, naming it)', async () => {
    const { upgraded } = await upgradedPair(Buffer.alloc(0));
    expect(userBufferFields(upgraded), `node ${process.version}`).not.toBeTypeOf('string');
  });

  it('switches an upgraded TLS socket to pooled reads in place: bytes, order, end and writes all work', async () => {
    const { client, upgraded, head } = await upgradedPair(Buffer.from('early'));
    const pool = new ReadBufferPool({ poison: true });
    const conn = readIntoPool(upgraded, pool, head);
    expect(conn.pooled).toBe(true);
    expect(conn.socket).toBe(upgraded);
    // What came with the request, then what the socket reads: the bytes the client sent.
    const hash = createHash('sha256').update(conn.head);
    let borrowed = 0;
    conn.socket.on('data', (c: Buffer) => {
      hash.update(c);
      if (isBorrowed(c)) borrowed++;
    });
    const reply = once(client, 'data');
    conn.socket.write('hello');
    expect(String((await reply)[0])).toBe('hello');
    const ended = once(conn.socket, 'end');
    const body = randomBytes(8 * 1024 * 1024);
    client.end(body);
    await ended;
    expect(hash.digest('hex')).toBe(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from('early'), body]))
        .digest('hex'),
    );
    // Bulk records went into pooled buffers, not fresh allocations.
    expect(borrowed).toBeGreaterThan(100);
  });

  it('pause() stops reading and resume() goes on, with nothing lost', async () => {
    const { client, upgraded, head } = await upgradedPair(Buffer.alloc(0));
    const conn = readIntoPool(upgraded, new ReadBufferPool({ poison: true }), head);
    let bytes = 0;
    const hash = createHash('sha256');
    conn.socket.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    conn.socket.pause();
    const body = randomBytes(32 * 1024 * 1024);
    client.write(body);
    // The client's writes back up while nobody reads: wait until it says so.
    await new Promise<void>((resolve) => {
      const check = () => (client.writableLength > 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    const paused = bytes;
    expect(paused).toBeLessThan(body.length);
    conn.socket.resume();
    client.end();
    await once(conn.socket, 'end');
    expect(bytes).toBe(body.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });
});
