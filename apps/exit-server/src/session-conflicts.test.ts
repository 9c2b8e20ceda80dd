import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, HELLO_HEADER, PROTOCOL_VERSION, ResetCode, Session, encodeHello, silentLogger } from '@tunnel/tunnel-protocol';
import { newWebSocketKey, rawWebSocketTransport, systemClock } from '@tunnel/tunnel-io';
import { waitFor } from '@tunnel/testing';
import { ControlPlane } from './control.ts';
import { Router } from './router.ts';

const token = 'session-conflicts-test-token-0123456789';
const NONCE_A = 'process-a-nonce-0123456789';
const NONCE_B = 'process-b-nonce-0123456789';
let plane: ControlPlane | undefined;
const sessions: Session[] = [];

afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await plane?.app.close();
  plane = undefined;
});

async function start(pingIntervalMs = DEFAULT_LIMITS.pingIntervalMs): Promise<{ port: number; router: Router }> {
  const router = new Router();
  plane = new ControlPlane(
    router,
    { token, instanceId: 'inst-c', limits: { ...DEFAULT_LIMITS, pingIntervalMs }, handshakeTimeoutMs: 5000, statusExtra: () => ({}) },
    silentLogger,
  );
  await plane.app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (plane.app.server.address() as AddressInfo).port, router };
}

type Dialed = { kind: 'session'; session: Session } | { kind: 'refused'; status: number; code: string | undefined };

/** Opens a real client session (it answers PINGs, as an edge client does), or reports the refusal. */
function dialSession(port: number, clientId: string, nonce: string | undefined): Promise<Dialed> {
  const hello = encodeHello({
    version: PROTOCOL_VERSION,
    clientId,
    hostnames: [],
    tcpPorts: [],
    capabilities: ['http'],
    ...(nonce ? { nonce } : {}),
  });
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/tunnel',
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': newWebSocketKey(),
        'Sec-WebSocket-Version': '13',
        authorization: `Bearer ${token}`,
        [HELLO_HEADER]: hello,
      },
    });
    req.once('upgrade', (_res: IncomingMessage, socket: Socket, head: Buffer) => {
      const session = new Session({
        clock: systemClock,
        role: 'client',
        transport: rawWebSocketTransport(socket, { role: 'client', head }),
        limits: { ...DEFAULT_LIMITS, pingIntervalMs: 0 },
      });
      sessions.push(session);
      resolve({ kind: 'session', session });
    });
    req.once('response', (res) => {
      res.resume();
      resolve({ kind: 'refused', status: res.statusCode ?? 0, code: res.headers['x-tunnel-error'] as string | undefined });
    });
    req.once('error', reject);
    req.end();
  });
}

describe('duplicate and replaced sessions (per client id and process nonce)', () => {
  it('refuses a second live session from the same process (409), replaces the session of an older process (GOAWAY SESSION_REPLACED)', async () => {
    const { port, router } = await start();
    const first = await dialSession(port, 'pi-1', NONCE_A);
    expect(first.kind).toBe('session');
    const firstSession = (first as { session: Session }).session;
    // same id, same nonce, first one alive (answers the probe): a duplicate
    expect(await dialSession(port, 'pi-1', NONCE_A)).toEqual({ kind: 'refused', status: 409, code: 'TUN_ERR_DUPLICATE_SESSION' });
    expect(router.clients.size).toBe(1);
    // same id, another process: accepted, and the old one is told why it goes away
    const goaway = new Promise<number>((resolve) => firstSession.once('goaway', resolve));
    const second = await dialSession(port, 'pi-1', NONCE_B);
    expect(second.kind).toBe('session');
    expect(await goaway).toBe(ResetCode.SESSION_REPLACED);
    await new Promise((r) => firstSession.once('close', r));
    expect([...router.clients].map((c) => c.hello.nonce)).toEqual([NONCE_B]);
    expect(plane?.admission.refusals).toMatchObject({ TUN_ERR_DUPLICATE_SESSION: 1, TUN_ERR_SESSION_REPLACED: 1 });
  });

  it('takes a held session that no longer answers for dead: the same process reconnects at once', async () => {
    // pings every 100 ms: a session silent for 2 intervals is probed rather than trusted
    const { port, router } = await start(100);
    const first = await dialSession(port, 'pi-2', NONCE_A);
    const stale = (first as { session: Session }).session;
    // the link died unnoticed: this end stops reading (and so answering), then goes silent
    stale.receive = () => {};
    const held = [...router.clients][0];
    await waitFor(() => held.session.silentForMs >= 300, { what: 'the held session silent for 3 ping intervals' });
    const again = await dialSession(port, 'pi-2', NONCE_A);
    expect(again.kind).toBe('session');
    expect(router.clients.size).toBe(1);
  }, 10_000);

  it('applies neither rule to clients that send no nonce (older releases)', async () => {
    const { port, router } = await start();
    expect((await dialSession(port, 'pi-3', undefined)).kind).toBe('session');
    expect((await dialSession(port, 'pi-3', undefined)).kind).toBe('session');
    expect(router.clients.size).toBe(2);
  });
});
