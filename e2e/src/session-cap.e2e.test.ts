import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpRequest,
  newToken,
  parseJsonLine,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  status,
  stopAll,
  waitForStatus,
  type ExitServerProc,
  type Proc,
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
const CAP = 3;
let server: ExitServerProc;
let app: SampleApp;

beforeAll(async () => {
  [server, app] = await Promise.all([startExitServer(token, ['--max-control-connections', String(CAP)]), startSampleApp('pi-cap')]);
});
afterAll(stopAll);

/** Resolves with the `n`th JSON log line of `proc` (already seen or future) whose msg is `msg`. */
async function nthLog(proc: Proc, msg: string, n: number): Promise<Record<string, unknown>> {
  const matches = () => proc.lines.map(parseJsonLine).filter((j) => j?.msg === msg);
  await proc.waitForLine((l) => parseJsonLine(l)?.msg === msg && matches().length >= n);
  return matches()[n - 1] as Record<string, unknown>;
}

describe('--max-control-connections caps sessions, not the operator', () => {
  it('keeps /healthz and /status at the cap, refuses a further client 503 with Retry-After, and lets it in when one leaves', async () => {
    const attached: Proc[] = [];
    for (let i = 0; i < CAP; i++) attached.push(await startEdgeClient(token, server.controlUrl, `held-${i}`, [`h${i}.test=${app.url}`]));
    const full = await waitForStatus(server, (s) => s.clients.length === CAP);
    expect(full.sessions).toEqual({ open: CAP, cap: CAP, refusedAtCap: 0 });
    expect((await httpRequest(`http://127.0.0.1:${server.controlPort}/healthz`)).status).toBe(200);
    expect((await httpRequest(`http://127.0.0.1:${server.controlPort}/readyz`)).status).toBe(200);

    const late = await startEdgeClient(token, server.controlUrl, 'late', [`late.test=${app.url}`], { waitConnected: false });
    await server.proc.waitForLog('refused edge client: session cap reached', { code: 'TUN_ERR_SESSION_CAP', cap: CAP });
    const refused = await late.waitForLog('exit server refused the connection', { code: 'TUN_ERR_SESSION_CAP', status: 503 });
    expect(String(refused.message)).toContain(`maximum of ${CAP} sessions`);
    // The server said Retry-After: 5; the client waits it out clamped to --reconnect-max (1 s in
    // the kit) plus up to half of it again, not its own 100 ms first backoff.
    const scheduled = await nthLog(late, 'reconnecting after backoff', 1);
    expect(scheduled.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(scheduled.retryAfterMs).toBeLessThanOrEqual(1500);
    expect(scheduled.delayMs).toBeGreaterThanOrEqual(scheduled.retryAfterMs as number);
    const redial = await nthLog(late, 'connecting to exit server', 2);
    expect((redial.time as number) - (scheduled.time as number)).toBeGreaterThanOrEqual((scheduled.delayMs as number) - 2);
    await nthLog(late, 'exit server refused the connection', 2);
    const atCap = await status(server);
    expect(atCap.clients.map((c) => c.id).sort()).toEqual(['held-0', 'held-1', 'held-2']);
    expect((atCap.sessions as { refusedAtCap: number }).refusedAtCap).toBeGreaterThanOrEqual(2);

    await attached[0].stop();
    await late.waitForLog('tunnel established', {}, 20_000);
    const after = await waitForStatus(server, (s) => s.clients.some((c) => c.id === 'late'));
    expect(after.clients.map((c) => c.id).sort()).toEqual(['held-1', 'held-2', 'late']);
    expect((await httpRequest(`${server.publicUrl}/`, { host: 'late.test' })).status).toBe(200);
  });
});
