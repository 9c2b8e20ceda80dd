import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNow } from '@tunnel/tunnel-protocol';
import { throwAwayCertificate } from '@tunnel/testing';
import type { RawSocketWithMark } from './raw-websocket.ts';
import { rawWebSocketTransport } from './raw-websocket.ts';
import { TLS_WRITE_SLAB_BYTES, coalesceTls, isTlsSocket } from './coalesced-tls.ts';

/** A socket that records each write and completes it only when the test says so. */
function fakeSocket() {
  const writes: Buffer[] = [];
  /** Writes not completed yet, oldest first. */
  const callbacks: Array<(err?: Error | null) => void> = [];
  const inFlightBytes: number[] = [];
  const listeners = new Map<string, Array<() => void>>();
  let ended = false;
  const sock = {
    destroyed: false,
    writableHighWaterMark: 16 * 1024,
    get writableLength() {
      return inFlightBytes.reduce((a, b) => a + b, 0);
    },
    writableNeedDrain: false,
    write(chunk: Buffer, cb?: (err?: Error | null) => void) {
      // Copy: the caller may reuse its buffer once the write completed, and the test checks bytes later.
      writes.push(Buffer.from(chunk));
      callbacks.push(cb ?? (() => {}));
      inFlightBytes.push(chunk.length);
      return true;
    },
    end: () => {
      ended = true;
    },
    destroy() {
      sock.destroyed = true;
      for (const l of listeners.get('close') ?? []) l();
    },
    cork() {},
    uncork() {},
    pause() {},
    resume() {},
    on(event: string, l: () => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), l]);
    },
  };
  const emit = (event: string, arg?: unknown) => {
    for (const l of listeners.get(event) ?? []) (l as (a: unknown) => void)(arg);
  };
  return {
    sock: sock as unknown as RawSocketWithMark,
    writes,
    /** Completes the oldest write in flight. */
    complete: () => {
      inFlightBytes.shift();
      callbacks.shift()?.();
    },
    inFlight: () => callbacks.length,
    ended: () => ended,
    emit,
  };
}

describe('coalesceTls writes', () => {
  it('hands TLS one buffer at a time and copies what queued meanwhile into the next, in order', () => {
    const f = fakeSocket();
    const out = coalesceTls(f.sock);
    const done: string[] = [];
    out.write(Buffer.from('ab'), () => done.push('ab'));
    out.write(Buffer.from('cd'), () => done.push('cd'));
    out.write(Buffer.from('ef'), () => done.push('ef'));
    expect(f.writes.map(String)).toEqual(['ab']);
    // Copied: the caller's buffers are free at once, before the socket finished.
    expect(done).toEqual(['ab']);
    expect(out.writableLength).toBe(6);
    f.complete();
    expect(f.writes.map(String)).toEqual(['ab', 'cdef']);
    expect(done).toEqual(['ab', 'cd', 'ef']);
    expect(f.inFlight()).toBe(1);
  });

  it('corked writes leave as one buffer on uncork', () => {
    const f = fakeSocket();
    const out = coalesceTls(f.sock);
    out.cork();
    out.write(Buffer.from('head'));
    out.write(Buffer.from('-body'));
    expect(f.writes).toEqual([]);
    out.uncork();
    expect(f.writes.map(String)).toEqual(['head-body']);
  });

  it('splits what is pending into slab-sized writes and says when it drained', () => {
    const f = fakeSocket();
    const out = coalesceTls(f.sock);
    let drains = 0;
    out.on('drain', () => drains++);
    const big = randomBytes(TLS_WRITE_SLAB_BYTES + 1000);
    out.write(Buffer.from('x'));
    expect(out.write(big)).toBe(false);
    expect(out.writableNeedDrain).toBe(true);
    f.complete();
    expect(f.writes[1].length).toBe(TLS_WRITE_SLAB_BYTES);
    f.complete();
    expect(f.writes[2].length).toBe(1000);
    expect(drains).toBe(0);
    f.complete();
    expect(drains).toBe(1);
    expect(Buffer.concat(f.writes.slice(1)).equals(big)).toBe(true);
  });

  it('end() sends what is pending before ending; destroy() releases pending buffers', () => {
    const f = fakeSocket();
    const out = coalesceTls(f.sock);
    out.write(Buffer.from('a'));
    out.write(Buffer.from('b'));
    out.end();
    expect(f.writes.map(String)).toEqual(['a', 'b']);
    expect(f.ended()).toBe(true);

    const g = fakeSocket();
    const out2 = coalesceTls(g.sock);
    const errors: Array<Error | null | undefined> = [];
    out2.write(Buffer.from('a'));
    out2.write(Buffer.from('b'), (err) => errors.push(err));
    out2.destroy();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
  });
});

describe('coalesceTls reads', () => {
  it('holds full 16 KiB records until the end of the turn, and hands a short one on at once with those before it', async () => {
    const f = fakeSocket();
    const out = coalesceTls(f.sock);
    const seen: number[] = [];
    out.on('data', (c: Buffer) => seen.push(c.length));
    f.emit('data', Buffer.alloc(100));
    expect(seen).toEqual([100]);
    f.emit('data', Buffer.alloc(16384));
    f.emit('data', Buffer.alloc(16384));
    expect(seen).toEqual([100]);
    f.emit('data', Buffer.alloc(7));
    expect(seen).toEqual([100, 16384, 16384, 7]);
    f.emit('data', Buffer.alloc(16384));
    expect(seen).toHaveLength(4);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([100, 16384, 16384, 7, 16384]);
  });
});

describe('rawWebSocketTransport over TLS', () => {
  let cert: Buffer;
  let key: Buffer;
  let remove = (): void => {};
  beforeAll(() => {
    ({ cert, key, remove } = throwAwayCertificate());
  });
  afterAll(() => remove());

  it('carries 8 MB of batches intact through coalesced TLS writes, releasing every batch', async () => {
    const server = createServer({ cert, key });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'secureConnection') as Promise<[TLSSocket]>;
    const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ca: cert });
    await once(client, 'secureConnect');
    const [serverSide] = await accepted;
    expect(isTlsSocket(client)).toBe(true);

    const sender = rawWebSocketTransport(client, { role: 'client' });
    sender.bind({ data: () => {}, drain: () => {}, close: () => {} });
    const receiver = rawWebSocketTransport(serverSide, { role: 'server' });
    const hash = createHash('sha256');
    let received = 0;
    const total = 8 * 1024 * 1024;
    const got = new Promise<void>((resolve) =>
      receiver.bind({
        data: (c) => {
          hash.update(readNow(c));
          received += c.length;
          if (received >= total) resolve();
        },
        drain: () => {},
        close: () => {},
      }),
    );
    const body = randomBytes(total);
    let released = 0;
    let batches = 0;
    // Batches of several chunks of mixed sizes, as a session writes them.
    for (let off = 0, i = 0; off < total; i++) {
      const sizes = [9, 1000 + (i % 7) * 40_000, 9, 300_000];
      const chunks = sizes.map((n) => body.subarray(off, (off = Math.min(total, off + n))));
      sender.write(chunks, () => released++);
      batches++;
    }
    await got;
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(released).toBe(batches);
    client.destroy();
    serverSide.destroy();
    server.close();
  });
});
