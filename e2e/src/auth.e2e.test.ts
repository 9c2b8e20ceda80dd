import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest,
  newToken,
  run,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  status,
  stopAll,
  waitForStatus,
  type SampleApp,
} from '@tunnel/testing';

const dir = mkdtempSync(join(tmpdir(), 'tunnel-e2e-auth-'));
let app: SampleApp;

beforeAll(async () => {
  app = await startSampleApp('pi-auth');
});
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Which sample app answered a request for `host`. */
async function whoServes(url: string, host: string): Promise<number> {
  return (await httpRequest(`${url}/`, { host })).status;
}

describe('identities and grants (--tokens-file)', () => {
  const tokenA = newToken();
  const tokenB = newToken();
  const tokensFile = join(dir, 'tokens.yaml');

  it('refuses claims outside the grant at the handshake, identifies clients by token, lets two entries share a pool', async () => {
    writeFileSync(
      tokensFile,
      `clients:\n  - { id: pi-a, token: ${tokenA}, hostnames: [a.test, pool.test] }\n  - { id: pi-b, token: ${tokenB}, hostnames: [b.test, pool.test], maxStreams: 4 }\n`,
    );
    const server = await startExitServer(newToken(), ['--tokens-file', tokensFile]);
    // pi-a claiming pi-b's hostname: the whole hello is refused, typed, logged and counted
    const rogue = await startEdgeClient(tokenA, server.controlUrl, 'pi-a', [`a.test=${app.url}`, `b.test=${app.url}`], {
      waitConnected: false,
    });
    const refused = await rogue.waitForLog('exit server refused the connection', { code: 'TUN_ERR_GRANT_DENIED', status: 403 });
    expect(String(refused.message)).toContain('may not serve hostname b.test');
    await server.proc.waitForLog('refused edge client', { code: 'TUN_ERR_GRANT_DENIED' });
    await rogue.stop();
    // pi-a presenting pi-b's id: refused too
    const borrower = await startEdgeClient(tokenA, server.controlUrl, 'pi-b', [`a.test=${app.url}`], { waitConnected: false });
    await borrower.waitForLog('exit server refused the connection', { code: 'TUN_ERR_GRANT_DENIED' });
    await borrower.stop();
    expect((await status(server)).clients).toEqual([]);
    expect(await whoServes(server.publicUrl, 'b.test')).toBe(503);
    // inside the grant: admitted as the token's entry, whatever --id says
    await startEdgeClient(tokenA, server.controlUrl, 'kitchen', [`a.test=${app.url}`, `pool.test=${app.url}`]);
    await startEdgeClient(tokenB, server.controlUrl, 'pi-b', [`b.test=${app.url}`, `pool.test=${app.url}`]);
    const s = await waitForStatus(server, (st) => st.clients.length === 2);
    const byId = Object.fromEntries(s.clients.map((c) => [c.id, c]));
    expect(byId['pi-a']).toMatchObject({ declaredId: 'kitchen', identity: 'granted', hostnames: ['a.test', 'pool.test'] });
    expect(byId['pi-b']).toMatchObject({ identity: 'granted' });
    for (const host of ['a.test', 'b.test', 'pool.test', 'pool.test']) expect(await whoServes(server.publicUrl, host)).toBe(200);
    const after = await status(server);
    const served = Object.fromEntries(after.clients.map((c) => [c.id, c.requestsServed]));
    expect(served).toEqual({ 'pi-a': 2, 'pi-b': 2 });
    expect((after.authRefusals as Record<string, number>).TUN_ERR_GRANT_DENIED).toBeGreaterThanOrEqual(2);
  });
});

describe('process nonce: a restarted device replaces its old session at once', () => {
  it('drains the old process session (GOAWAY SESSION_REPLACED) when a new process with the same id connects', async () => {
    const token = newToken();
    const server = await startExitServer(token);
    const old = await startEdgeClient(token, server.controlUrl, 'same-id', [app.url]);
    const first = (await waitForStatus(server, (s) => s.clients.length === 1)).clients[0].sessionId;
    await startEdgeClient(token, server.controlUrl, 'same-id', [app.url]);
    await old.waitForLog('exit server replaced this session: another process with this id connected', { code: 'TUN_ERR_SESSION_REPLACED' });
    await server.proc.waitForLog('session replaced by a new process with the same id: draining it');
    const s = await waitForStatus(server, (st) => st.clients.length === 1 && st.clients[0].sessionId !== first);
    expect(s.clients[0].id).toBe('same-id');
    await old.stop();
  });
});

describe('rotation without downtime', () => {
  it('accepts old and new tokens together, re-reads the file on change and SIGHUP, and drains clients whose token was removed', async () => {
    const oldToken = newToken();
    const newTok = newToken();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${oldToken}\n`);
    const server = await startExitServer(oldToken, ['--token-file', tokenFile]);
    const oldClient = await startEdgeClient(oldToken, server.controlUrl, 'rot-old', [app.url]);
    // phase 1: add the new token (first line), keep the old one
    writeFileSync(tokenFile, `${newTok}\n${oldToken}\n`);
    server.proc.child.kill('SIGHUP');
    await server.proc.waitForLog('token files reloaded', { why: 'reload requested', sharedTokens: 2 });
    await startEdgeClient(newTok, server.controlUrl, 'rot-new', [app.url]);
    await waitForStatus(server, (s) => s.clients.length === 2);
    // phase 2: remove the old token; the file watch notices without a signal
    writeFileSync(tokenFile, `${newTok}\n`);
    await server.proc.waitForLog('token files reloaded', { why: 'file changed', sharedTokens: 1 });
    await oldClient.waitForLog('exit server revoked this token: draining', { code: 'TUN_ERR_TOKEN_REVOKED' });
    const s = await waitForStatus(server, (st) => st.clients.length === 1);
    expect(s.clients[0].id).toBe('rot-new');
    // it keeps retrying with its old token, refused
    await oldClient.waitForLog(
      'exit server refused the token (TUN_ERR_AUTH): check --token-env/--token-file on both ends; retrying with backoff in case the secret is being rotated',
    );
    // a broken file is ignored: the current tokens stay
    writeFileSync(tokenFile, 'short\n');
    server.proc.child.kill('SIGHUP');
    await server.proc.waitForLog('token files not reloaded: keeping the previous tokens');
    expect(await whoServes(server.publicUrl, 'x.test')).toBe(200);
    await oldClient.stop();
  });
});

describe('auth hardening', () => {
  it('rate-limits failed attempts per address: 429 with Retry-After, for the tunnel and for /status', async () => {
    const server = await startExitServer(newToken(), ['--auth-failure-limit', '3']);
    const upgrade = (authorization: string) =>
      httpRequest(`http://127.0.0.1:${server.controlPort}/tunnel`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
          authorization,
        },
      });
    for (let i = 0; i < 3; i++) expect((await upgrade(`Bearer wrong-${i}`)).status).toBe(401);
    const limited = await upgrade('Bearer wrong-again');
    expect(limited.status).toBe(429);
    expect(limited.headers['x-tunnel-error']).toBe('TUN_ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const admin = await httpRequest(`http://127.0.0.1:${server.controlPort}/status`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(admin.status).toBe(429);
    expect(admin.headers['retry-after']).toBeDefined();
  });

  it('refuses tokens shorter than 32 characters at start-up unless --allow-weak-token', async () => {
    const weak = run('exit-server:weak', 'exit-server', ['--port', '0', '--control-port', '0', '--bind', '127.0.0.1'], {
      TUNNEL_TOKEN: 'weak-token-xyzzy',
    });
    expect(await weak.exited).toBe(2);
    expect(weak.lines.join('\n')).toContain('token is shorter than 32 characters');
    expect(weak.lines.join('\n')).not.toContain('xyzzy');
    const allowed = await startExitServer('weak-token-xyzzy', ['--allow-weak-token']);
    expect((await status(allowed)).clients).toEqual([]);
    const client = run('edge-client:weak', 'edge-client', ['--url', allowed.controlUrl, '--upstream', app.url], {
      TUNNEL_TOKEN: 'weak-token-xyzzy',
    });
    expect(await client.exited).toBe(2);
  });

  it('the edge client refuses ws:// to a non-loopback host unless --insecure', async () => {
    const token = newToken();
    const server = await startExitServer(token);
    // 0.0.0.0 is not a loopback address, yet on Linux connecting to it reaches this host: no
    // traffic leaves the machine.
    const url = `ws://0.0.0.0:${server.controlPort}`;
    const clear = run('edge-client:clear', 'edge-client', ['--url', url, '--upstream', app.url], { TUNNEL_TOKEN: token });
    expect(await clear.exited).toBe(2);
    expect(clear.lines.join('\n')).toContain('ws:// to a non-loopback host sends the token and all traffic in clear');
    await startEdgeClient(token, url, 'insecure', [app.url], { args: ['--insecure'] });
    await waitForStatus(server, (s) => s.clients.some((c) => c.id === 'insecure'));
  });
});
