import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerUi } from './ui-routes.ts';
import { MAX_UI_SESSIONS, UiSessions, cookieValue } from './ui-sessions.ts';

const ADMIN = 'admin-token-admin-token-admin-token';

async function app(adminToken: string | null = ADMIN): Promise<{ app: FastifyInstance; refused: string[] }> {
  const refused: string[] = [];
  const a = Fastify();
  registerUi(a, {
    instanceId: 'inst-1',
    adminToken: () => adminToken ?? undefined,
    state: () => ({ clients: [{ id: 'pi-1' }], rates: [{ t: 0, requests: 3, errors: 1 }] }),
    secure: false,
    onRefused: (r) => refused.push(r),
  });
  await a.ready();
  return { app: a, refused };
}

const form = (token: string, headers: Record<string, string> = { origin: 'http://tunnel.test', host: 'tunnel.test' }) => ({
  method: 'POST' as const,
  url: '/ui/login',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  payload: new URLSearchParams({ token }).toString(),
});

describe('status page routes', () => {
  let current: FastifyInstance | undefined;
  afterEach(async () => current?.close());

  it('logs in with the admin token from a same-origin form: an HttpOnly SameSite=Strict cookie that is not the token', async () => {
    const { app: a } = await app();
    current = a;
    expect((await a.inject({ url: '/ui' })).body).toContain('name="token"');
    const res = await a.inject(form(ADMIN));
    expect(res.statusCode).toBe(303);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^tunnel_ui=[A-Za-z0-9_-]{43}; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(setCookie).not.toContain(ADMIN);
    const cookie = setCookie.split(';')[0];
    const page = await a.inject({ url: '/ui', headers: { cookie } });
    expect(page.body).toContain('id="clients"');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await a.inject({ url: '/ui/events', headers: { cookie: 'tunnel_ui=forged' } })).statusCode).toBe(401);
  });

  it('refuses a wrong token, a cross-site post and a post without Origin, and counts each', async () => {
    const { app: a, refused } = await app();
    current = a;
    const wrong = await a.inject(form('nope'));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await a.inject(form(ADMIN, { origin: 'https://evil.test', host: 'tunnel.test' }))).statusCode).toBe(403);
    expect((await a.inject(form(ADMIN, { host: 'tunnel.test', 'sec-fetch-site': 'cross-site' }))).statusCode).toBe(403);
    expect((await a.inject(form(ADMIN, { host: 'tunnel.test' }))).statusCode).toBe(403);
    expect(refused).toEqual(['TUN_ERR_ADMIN_AUTH', 'TUN_ERR_UI_CROSS_SITE', 'TUN_ERR_UI_CROSS_SITE', 'TUN_ERR_UI_CROSS_SITE']);
  });

  it('stays closed without an admin token', async () => {
    const { app: a, refused } = await app(null);
    current = a;
    expect((await a.inject(form('anything'))).statusCode).toBe(403);
    expect(refused).toEqual(['TUN_ERR_ADMIN_DISABLED']);
  });
});

describe('UiSessions', () => {
  it('expires sessions and keeps at most MAX_UI_SESSIONS', () => {
    let now = 0;
    const s = new UiSessions(() => now);
    const first = s.create();
    for (let i = 0; i < MAX_UI_SESSIONS; i++) s.create();
    expect(s.valid(first)).toBe(false);
    const id = s.create();
    expect(s.valid(id)).toBe(true);
    now += 13 * 3600_000;
    expect(s.valid(id)).toBe(false);
    expect(cookieValue('a=1; tunnel_ui=xyz; b=2', 'tunnel_ui')).toBe('xyz');
  });
});
