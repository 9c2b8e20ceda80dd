import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { pseudoRandomBytes } from './pseudo-random-bytes.ts';

interface EchoReply {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySha256: string;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const EMPTY_SHA256 = sha256('');

describe('ALL /echo', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ name: 'echo' });
  });
  afterAll(() => app.close());

  it('describes a bodyless GET, including a repeated query parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/echo?a=1&a=2&b=x', headers: { 'x-custom': 'yes' } });
    expect(res.statusCode).toBe(200);
    expect(res.json<EchoReply>()).toMatchObject({
      method: 'GET',
      path: '/echo',
      query: { a: ['1', '2'], b: 'x' },
      headers: { 'x-custom': 'yes' },
      bodyBytes: 0,
      bodySha256: EMPTY_SHA256,
    });
  });

  const bodies: Array<[method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS', contentType: string | undefined, body: string | Buffer]> = [
    ['POST', 'application/json', '{"hello":"world"}'],
    // Malformed JSON must not be rejected: the body is opaque bytes here.
    ['PUT', 'application/json', '{not json'],
    ['PATCH', 'text/plain; charset=utf-8', 'héllo'],
    ['DELETE', 'application/x-weird', 'abc'],
    ['OPTIONS', 'application/octet-stream', Buffer.from([0, 1, 2, 255])],
    ['POST', 'multipart/form-data; boundary=x', '--x\r\n\r\nvalue\r\n--x--'],
    ['POST', undefined, 'no content type at all'],
  ];
  it.each(bodies)('%s with %s body: counts and hashes the bytes', async (method, contentType, body) => {
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    const res = await app.inject({ method, url: '/echo', headers, payload: body });
    expect(res.statusCode).toBe(200);
    expect(res.json<EchoReply>()).toMatchObject({
      method,
      path: '/echo',
      bodyBytes: Buffer.byteLength(body),
      bodySha256: sha256(body),
    });
  });

  it('handles an empty body with a content type', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.json<EchoReply>()).toMatchObject({ bodyBytes: 0, bodySha256: EMPTY_SHA256 });
  });

  it('hashes a body sent with a GET', async () => {
    const res = await app.inject({ method: 'GET', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'odd but legal' });
    expect(res.json<EchoReply>()).toMatchObject({ bodyBytes: 13, bodySha256: sha256('odd but legal') });
  });

  it('answers HEAD without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/echo' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });
});

describe('ALL /echo over a real socket', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildApp({ name: 'echo' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  // Generating, sending and hashing 100 MB twice is ~0.4 GB of CPU-bound work: about a second on
  // an idle core, over 5 s (vitest's default) at load 17 on 2 cores. A hang still fails, at 60 s.
  it('streams a 100 MB chunked upload through the hash', { timeout: 60_000 }, async () => {
    const size = 100 * 1000 * 1000;
    const expected = createHash('sha256');
    for (const chunk of pseudoRandomBytes(9, size)) expected.update(chunk);

    const reply = await new Promise<EchoReply>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'PUT', path: '/echo', headers: { 'content-type': 'application/octet-stream' } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString()) as EchoReply));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      Readable.from(pseudoRandomBytes(9, size)).pipe(req);
    });

    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(reply.bodyBytes).toBe(size);
    expect(reply.bodySha256).toBe(expected.digest('hex'));
  });
});
