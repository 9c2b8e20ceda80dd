import { expect, it } from 'vitest';
import { buildApp } from './app.ts';

it('GET /healthz answers ok', async () => {
  const app = await buildApp({ name: 'alpha' });
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ status: 'ok' });
  await app.close();
});
