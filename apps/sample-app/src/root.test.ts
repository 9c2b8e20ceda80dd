import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';

describe('GET /', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ name: 'alpha' });
  });
  afterAll(() => app.close());

  it('identifies the instance', async () => {
    const before = Date.now();
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ instance: string; pid: number; time: string }>();
    expect(body).toEqual({ instance: 'alpha', pid: process.pid, time: expect.any(String) });
    expect(new Date(body.time).toISOString()).toBe(body.time);
    expect(Date.parse(body.time)).toBeGreaterThanOrEqual(before);
  });

  it('answers 404 for unknown paths', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
  });
});
