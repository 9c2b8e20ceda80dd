import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkAdmin } from '../admin-auth.ts';
import type { RatePoint } from '../metrics/rate-window.ts';
import { APP_JS, loginPage, statusPage } from './ui-page.ts';
import { UI_COOKIE, UI_SESSION_TTL_MS, UiSessions, cookieValue } from './ui-sessions.ts';

/** What the status page shows, sent on each update. */
export interface UiState {
  /** Connected clients, as /status lists them. */
  readonly clients: ReadonlyArray<Record<string, unknown>>;
  /** Requests and errors per second, oldest first. */
  readonly rates: readonly RatePoint[];
}

/** Settings of the status page. */
export interface UiOptions {
  /** This server's instance id (the page title). */
  readonly instanceId: string;
  /** The admin token (a getter: re-read tokens apply at once); undefined = the page is closed. */
  readonly adminToken: () => string | undefined;
  /** The current state. */
  readonly state: () => UiState;
  /** The control port serves TLS: the cookie is then `Secure`. */
  readonly secure: boolean;
  /** Called for each refused login (counting, logging). */
  readonly onRefused: (reason: 'TUN_ERR_ADMIN_AUTH' | 'TUN_ERR_ADMIN_DISABLED' | 'TUN_ERR_UI_CROSS_SITE') => void;
  /** Time between updates, ms. @default 1000 */
  readonly updateIntervalMs?: number;
}

/** Most live-update streams open at once (count); more are answered 503. */
export const MAX_UI_STREAMS = 16;
/** Largest login form, bytes. */
const MAX_FORM_BYTES = 4096;
/** Content-Security-Policy of every page: nothing but this origin, no inline script. */
const CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * A state-changing request must come from the page itself: browsers send `Origin` (and
 * `Sec-Fetch-Site`) on POSTs, so a form posted from another site is refused even before the
 * SameSite=Strict cookie would have been withheld from it.
 */
function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return site !== undefined;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** An HTML page, never cached or framed, under {@link CSP}. */
function sendHtml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .send(body);
}

/** The `set-cookie` value of a login session (`maxAgeS` 0 with an empty value: the logout). */
function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${UI_COOKIE}=${value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** `POST /ui/login`: the admin token from the form buys a session cookie; anything else the login page again, saying why. */
function logIn(req: FastifyRequest, reply: FastifyReply, opts: UiOptions, sessions: UiSessions): FastifyReply {
  if (!sameOrigin(req)) {
    opts.onRefused('TUN_ERR_UI_CROSS_SITE');
    return sendHtml(reply, 403, loginPage('TUN_ERR_UI_CROSS_SITE: log in from this page, not from another site'));
  }
  const token = (req.body as Record<string, unknown> | undefined)?.token;
  const outcome = checkAdmin(typeof token === 'string' ? `Bearer ${token}` : undefined, opts.adminToken());
  if (outcome.state === 'disabled') {
    opts.onRefused('TUN_ERR_ADMIN_DISABLED');
    return sendHtml(reply, 403, loginPage('TUN_ERR_ADMIN_DISABLED: this exit server has no admin token'));
  }
  if (outcome.state === 'refused') {
    opts.onRefused('TUN_ERR_ADMIN_AUTH');
    return sendHtml(reply, 401, loginPage('TUN_ERR_ADMIN_AUTH: that is not the admin token'));
  }
  return reply
    .code(303)
    .header('set-cookie', sessionCookie(sessions.create(), UI_SESSION_TTL_MS / 1000, opts.secure))
    .header('location', '/ui')
    .send();
}

/** `POST /ui/logout`: forgets the session and clears its cookie. */
function logOut(req: FastifyRequest, reply: FastifyReply, opts: UiOptions, sessions: UiSessions): FastifyReply {
  if (!sameOrigin(req)) return sendHtml(reply, 403, loginPage('TUN_ERR_UI_CROSS_SITE: log out from this page'));
  sessions.drop(cookieValue(req.headers.cookie, UI_COOKIE));
  return reply
    .code(303)
    .header('set-cookie', sessionCookie('', 0, opts.secure))
    .header('location', '/ui')
    .send();
}

/** `GET /ui/events` once admitted: takes the response over and sends the state now and every update interval until it closes. */
function streamState(reply: FastifyReply, opts: UiOptions, streams: Set<ServerResponse>): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = () => res.write(`event: state\ndata: ${JSON.stringify(opts.state())}\n\n`);
  send();
  const timer = setInterval(send, opts.updateIntervalMs ?? 1000);
  streams.add(res);
  res.on('close', () => {
    clearInterval(timer);
    streams.delete(res);
  });
}

/**
 * The live status page on the control port: `GET /ui` (the login form, or the page once logged
 * in), `POST /ui/login` (the admin token in a form body; answers with an HttpOnly,
 * SameSite=Strict session cookie), `POST /ui/logout`, `GET /ui/events` (Server-Sent Events,
 * one `state` event per second) and `GET /ui/app.js`.
 */
export function registerUi(app: FastifyInstance, opts: UiOptions): void {
  const sessions = new UiSessions();
  const streams = new Set<ServerResponse>();
  const loggedIn = (req: FastifyRequest) => opts.adminToken() !== undefined && sessions.valid(cookieValue(req.headers.cookie, UI_COOKIE));

  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: MAX_FORM_BYTES },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      },
    );
    scope.get('/ui', async (req, reply) => sendHtml(reply, 200, loggedIn(req) ? statusPage(opts.instanceId) : loginPage()));
    scope.post('/ui/login', async (req, reply) => logIn(req, reply, opts, sessions));
    scope.post('/ui/logout', async (req, reply) => logOut(req, reply, opts, sessions));
    scope.get('/ui/app.js', async (_req, reply) =>
      reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-store').send(APP_JS),
    );
    scope.get('/ui/events', async (req, reply) => {
      if (!loggedIn(req)) return reply.code(401).send({ error: 'TUN_ERR_ADMIN_AUTH', message: 'log in at /ui first' });
      if (streams.size >= MAX_UI_STREAMS) return reply.code(503).send({ error: 'too many status pages open' });
      streamState(reply, opts, streams);
    });
  });

  // Open event streams would keep the control port from closing.
  app.addHook('onClose', async () => {
    for (const res of streams) res.end();
  });
}
