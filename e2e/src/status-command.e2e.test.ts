import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePorts,
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  stopAll,
  type ExitServerProc,
  type Proc,
} from '@tunnel/testing';

const MAIN = fileURLToPath(new URL('../../apps/exit-server/dist/main.js', import.meta.url));

/** Runs `exit-server status ARGS` with the admin token in $ADMIN; resolves its exit code and output. */
function status(args: string[], admin: string | undefined): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'status', ...args], {
      env: { PATH: process.env.PATH ?? '', ...(admin ? { ADMIN: admin } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('exit-server status against a live server', () => {
  const token = newToken();
  let server: ExitServerProc;
  let clients: Proc[];
  let url: string;

  beforeAll(async () => {
    const apps = [await startSampleApp('pi-1'), await startSampleApp('pi-2')];
    server = await startExitServer(token, ['--ping-interval', '200ms']);
    url = `http://127.0.0.1:${server.controlPort}`;
    clients = [
      await startEdgeClient(token, server.controlUrl, 'pi-1', [`app.test=${apps[0].url}`]),
      await startEdgeClient(token, server.controlUrl, 'pi-2', [apps[1].url]),
    ];
  });
  afterAll(stopAll);

  it('prints a table of both clients, with their request rate while traffic flows, and exits 0', async () => {
    // Requests to pi-1 flow for as long as the command samples.
    let done = false;
    const traffic = (async () => {
      while (!done) await httpRequest(`${server.publicUrl}/`, { host: 'app.test' });
    })();
    const r = await status(['--url', url, '--admin-token-env', 'ADMIN', '--sample', '500ms'], server.adminToken);
    done = true;
    await traffic;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`exit server `);
    const lines = r.out.split('\n');
    expect(
      lines.some((l) =>
        /^CLIENT\s+ADDRESS\s+HOSTNAMES\/PORTS\s+UPTIME\s+REQ\/S\s+IN FLIGHT\s+REQUESTS\s+BYTES IN\s+BYTES OUT\s+RTT MS$/.test(l),
      ),
    ).toBe(true);
    const row1 = lines.find((l) => l.startsWith('pi-1'))?.split(/\s{2,}/) ?? [];
    const row2 = lines.find((l) => l.startsWith('pi-2'))?.split(/\s{2,}/) ?? [];
    expect(row1.slice(0, 3)).toEqual(['pi-1', '127.0.0.1', 'app.test']);
    expect(row2.slice(0, 3)).toEqual(['pi-2', '127.0.0.1', '*']);
    expect(Number(row1[4])).toBeGreaterThan(0);
    expect(r.out).toContain('servers: this one only (no peers)');
  });

  it('prints JSON with --json that matches /status', async () => {
    const r = await status(['--url', url, '--admin-token-env', 'ADMIN', '--json', '--sample', '0'], server.adminToken);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const live = (await (await fetch(`${url}/status`, { headers: { authorization: `Bearer ${server.adminToken}` } })).json()) as {
      instanceId: string;
    };
    expect(doc.instanceId).toBe(live.instanceId);
    expect(doc.clients.map((c: { id: string }) => c.id).sort()).toEqual(['pi-1', 'pi-2']);
    expect(doc.clients.every((c: { requestsPerSecond: unknown }) => c.requestsPerSecond === null)).toBe(true);
  });

  it("exits 2 with the server's error code when the admin token is wrong or missing, and for an unreachable server", async () => {
    const wrong = await status(['--url', url, '--admin-token-env', 'ADMIN'], 'not-the-admin-token');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('TUN_ERR_ADMIN_AUTH');
    const none = await status(['--url', url, '--admin-token-env', 'ADMIN'], undefined);
    expect(none.code).toBe(2);
    expect(none.err).toContain('$ADMIN');
    const [unused] = await freePorts(1);
    const down = await status(['--url', `http://127.0.0.1:${unused}`, '--admin-token-env', 'ADMIN', '--sample', '0'], server.adminToken);
    expect(down.code).toBe(2);
    expect(down.err).toContain('ECONNREFUSED');
  });

  it('exits 1 when no client is connected (usable as a check)', async () => {
    for (const c of clients) await c.stop();
    const r = await status(['--url', url, '--admin-token-env', 'ADMIN', '--sample', '0'], server.adminToken);
    expect(r.code).toBe(1);
    expect(r.out).toContain('no client is connected');
  });
});
