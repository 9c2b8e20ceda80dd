import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@tunnel/testing';
import { buildApp } from './app.ts';

describe('GET /slow', () => {
  it('answers after the requested delay', async () => {
    const app = await buildApp({ name: 'slow' });
    const start = Date.now();
    const res = await app.inject({ method: 'GET', url: '/slow?ms=120' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sleptMs: 120 });
    // setTimeout may fire a millisecond early by rounding, never much earlier.
    expect(Date.now() - start).toBeGreaterThanOrEqual(115);
    await app.close();
  });

  it('rejects delays above 60 s or malformed ones with 400', async () => {
    const app = await buildApp({ name: 'slow' });
    for (const ms of ['60001', '-1', 'soon']) {
      const res = await app.inject({ method: 'GET', url: `/slow?ms=${ms}` });
      expect(res.statusCode, ms).toBe(400);
    }
    await app.close();
  });

  it('stops waiting as soon as the client goes away', async () => {
    // GIVEN a server whose logs we can read
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp({ name: 'slow', logger: pino({ level: 'info' }, sink) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;

    // WHEN a client asks for a minute-long wait and hangs up once the server has the request
    const req = get({ host: '127.0.0.1', port, path: '/slow?ms=60000' });
    req.on('error', () => {
      // Expected: we destroy the request ourselves.
    });
    await waitFor(() => lines.some((line) => line.includes('incoming request')), { what: 'the request logged by the server' });
    const hungUpAt = Date.now();
    req.destroy();

    // THEN the handler stops waiting right away instead of sleeping out the minute
    await expect.poll(() => lines.some((line) => line.includes('client went away')), { timeout: 2000 }).toBe(true);
    expect(Date.now() - hungUpAt).toBeLessThan(2000);
    await app.close();
  });
});
