import { createHash } from 'node:crypto';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { MAX_BYTES, MAX_BYTES_WITH_SHA_HEADER } from './bytes-route.ts';
import { pseudoRandomBytes } from './pseudo-random-bytes.ts';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const expectedBytes = (seed: number, n: number): Buffer => Buffer.concat([...pseudoRandomBytes(seed, n)]);

describe('GET /bytes/:n', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ name: 'bytes' });
  });
  afterAll(() => app.close());

  it.each([0, 1, 65_536, 65_537, 300_000])('serves %i bytes of the default seed with length and sha headers', async (n) => {
    const res = await app.inject({ method: 'GET', url: `/bytes/${n}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-length']).toBe(String(n));
    expect(res.rawPayload.equals(expectedBytes(1, n))).toBe(true);
    expect(res.headers['x-sha256']).toBe(sha256(res.rawPayload));
  });

  it('uses the requested seed', async () => {
    const res = await app.inject({ method: 'GET', url: '/bytes/1000?seed=42' });
    expect(res.rawPayload.equals(expectedBytes(42, 1000))).toBe(true);
    expect(res.rawPayload.equals(expectedBytes(1, 1000))).toBe(false);
  });

  it('sends the sha256 as a trailer, without content-length, when asked', async () => {
    const res = await app.inject({ method: 'GET', url: '/bytes/200000?seed=3&trailer=1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['trailer']).toBe('x-sha256');
    expect(res.headers['x-sha256']).toBeUndefined();
    expect(res.rawPayload.equals(expectedBytes(3, 200_000))).toBe(true);
    expect(res.trailers['x-sha256']).toBe(sha256(res.rawPayload));
  });

  it.each(['abc', '-1', '1.5', '1e3', '0x10', '%20', String(MAX_BYTES + 1), '123456789012'])('rejects n=%s with 400', async (n) => {
    const res = await app.inject({ method: 'GET', url: `/bytes/${n}` });
    expect(res.statusCode).toBe(400);
  });

  it.each(['seed=-1', 'seed=x', 'seed=1.5', 'trailer=yes'])('rejects %s with 400', async (query) => {
    const res = await app.inject({ method: 'GET', url: `/bytes/10?${query}` });
    expect(res.statusCode).toBe(400);
  });
});

describe('GET /bytes/:n over a real socket', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildApp({ name: 'bytes' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  const fetchRaw = (path: string): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => get({ host: '127.0.0.1', port, path }, resolve).on('error', reject));

  it('delivers the trailer to an HTTP/1.1 client after the chunked body', async () => {
    const n = 3 * 1024 * 1024 + 7;
    const res = await fetchRaw(`/bytes/${n}?seed=11&trailer=1`);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      hash.update(chunk);
      received += chunk.length;
    }
    const actual = hash.digest('hex');
    expect(received).toBe(n);
    expect(res.trailers['x-sha256']).toBe(actual);
    expect(actual).toBe(sha256(expectedBytes(11, n)));
  });

  it('omits the sha header above 64 MiB but still announces the length', async () => {
    const n = MAX_BYTES_WITH_SHA_HEADER + 1;
    const res = await fetchRaw(`/bytes/${n}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(n));
    expect(res.headers['x-sha256']).toBeUndefined();
    res.destroy();
  });

  it('only generates what the client reads (the 10 GiB maximum starts immediately)', async () => {
    const res = await fetchRaw(`/bytes/${MAX_BYTES}`);
    expect(res.headers['content-length']).toBe(String(MAX_BYTES));
    const first = (await res[Symbol.asyncIterator]().next()).value as Buffer;
    expect(first.equals(expectedBytes(1, first.length))).toBe(true);
    res.destroy();
  });
});
