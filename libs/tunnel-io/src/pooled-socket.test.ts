import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadBufferPool } from './read-pool.ts';
import { isBorrowed } from '@tunnel/tunnel-protocol';
import { readAcceptedIntoPool, readIntoPool } from './pooled-socket.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A loopback server; resolves with a connected client and the server's accepted socket. */
async function connectedPair(): Promise<{ client: Socket; accepted: Socket; server: Server }> {
  const server: Server = createServer({ allowHalfOpen: true });
  const acceptedP = once(server, 'connection') as Promise<[Socket]>;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [accepted] = await acceptedP;
  await once(client, 'connect');
  cleanups.push(() => {
    client.destroy();
    accepted.destroy();
    server.close();
  });
  return { client, accepted, server };
}

/** A connected pair whose accepted socket has already read 'early' (buffered, unconsumed). */
async function pairThatReadEarly(): Promise<{ client: Socket; accepted: Socket }> {
  const pair = await connectedPair();
  pair.accepted.pause();
  pair.client.write('early');
  await once(pair.accepted, 'readable');
  return pair;
}

function sha(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

describe('readIntoPool', () => {
  it('moves an accepted socket onto pooled reads: bytes, end, and writes back all work', async () => {
    const { client, accepted } = await connectedPair();
    const pool = new ReadBufferPool({ poison: true });
    const adopted = readIntoPool(accepted, pool);
    expect(adopted.pooled).toBe(true);
    expect(adopted.socket).not.toBe(accepted);
    const hash = createHash('sha256');
    let bytes = 0;
    let borrowed = 0;
    adopted.socket.on('data', (c: Buffer) => {
      // Used during the call only, as the contract says.
      hash.update(c);
      bytes += c.length;
      if (isBorrowed(c)) borrowed++;
    });
    const body = randomBytes(8 * 1024 * 1024);
    client.end(body);
    await once(adopted.socket, 'end');
    expect(bytes).toBe(body.length);
    expect(hash.digest('hex')).toBe(sha(body));
    expect(borrowed).toBeGreaterThan(0);
    expect(pool.stats().acquired).toBeGreaterThan(0);

    const reply: Buffer[] = [];
    client.on('data', (c: Buffer) => reply.push(c));
    adopted.socket.end('thanks');
    await once(client, 'end');
    expect(Buffer.concat(reply).toString()).toBe('thanks');
  });

  it('keeps what the old socket had already read, after the given head', async () => {
    const { client, accepted } = await pairThatReadEarly();
    const adopted = readIntoPool(accepted, new ReadBufferPool(), Buffer.from('head:'));
    const got: Buffer[] = [adopted.head];
    adopted.socket.on('data', (c: Buffer) => got.push(Buffer.from(c)));
    client.end('late');
    await once(adopted.socket, 'end');
    expect(Buffer.concat(got).toString()).toBe('head:earlylate');
  });

  it('puts back in front what the old socket had read, for an accepted socket', async () => {
    const { client, accepted } = await pairThatReadEarly();
    const socket = readAcceptedIntoPool(accepted, new ReadBufferPool());
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(Buffer.from(c)));
    client.end('late');
    await once(socket, 'end');
    expect(Buffer.concat(got).toString()).toBe('earlylate');
  });

  it('closes the connection when the new socket is destroyed, and gives its buffer back', async () => {
    const { client, accepted } = await connectedPair();
    const pool = new ReadBufferPool();
    const adopted = readIntoPool(accepted, pool);
    adopted.socket.on('data', () => {});
    client.on('error', () => {}); // closing with unread bytes resets the connection
    client.write(randomBytes(1024 * 1024));
    await once(adopted.socket, 'data');
    adopted.socket.destroy();
    await Promise.all([new Promise((r) => client.on('close', r)), once(adopted.socket, 'close')]);
    expect(pool.stats().freeBuffers).toBe(pool.stats().liveBytes / (1024 * 1024));
  });

  it('stays counted by its server, so server.close() completes once the new socket closes', async () => {
    const { client, accepted, server } = await connectedPair();
    const adopted = readIntoPool(accepted, new ReadBufferPool());
    let closed = false;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    void serverClosed.then(() => (closed = true));
    // The server still counts the adopted connection: that, not a quiet spell, is why close() waits.
    const open = await new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    expect(open).toBe(1);
    expect(closed).toBe(false);
    client.end();
    adopted.socket.resume();
    adopted.socket.end();
    await serverClosed;
  });

  it('leaves a socket it cannot adopt as it is', async () => {
    const { accepted } = await connectedPair();
    accepted.write(Buffer.alloc(64 * 1024 * 1024));
    // A write still in flight belongs to the old object.
    const kept = readIntoPool(accepted, new ReadBufferPool());
    expect(kept).toMatchObject({ socket: accepted, pooled: false });
  });
});
