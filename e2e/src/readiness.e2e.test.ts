import { afterAll, describe, expect, it } from 'vitest';
import {
  httpRequest,
  newToken,
  startEdgeClient,
  startExitServer,
  startSampleApp,
  stopAll,
  waitFor,
  waitForStatus,
  type ExitServerProc,
} from '@tunnel/testing';

afterAll(() => stopAll());

const readyz = async (s: ExitServerProc) => (await httpRequest(`http://127.0.0.1:${s.controlPort}/readyz`)).status;

describe('/readyz of a new server whose peer is slow to answer', () => {
  it('stays 503 while the busy peer has not answered, and after it did, while the new server holds fewer clients', async () => {
    const token = newToken();
    const timings = ['--peer-interval', '250ms', '--peer-timeout', '60s', '--ready-timeout', '120s'];
    const app = await startSampleApp('pi-1');
    const busy = await startExitServer(token, timings);
    await startEdgeClient(token, busy.controlUrl, 'pi-1', [app.url]);
    await waitForStatus(busy, (s) => s.clients.length === 1);
    // A stopped process answers no probe: each of the new server's probes times out (250 ms),
    // as a peer's /healthz can on a loaded host. Before the fix, the first such round counted
    // as "peers known, none holds a client", and the new server turned ready holding none.
    const pid = busy.proc.child.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    try {
      const fresh = await startExitServer(token, [...timings, '--peer', `127.0.0.1:${busy.controlPort}`]);
      // Watch /readyz over several probe rounds (8 at most, well inside --peer-timeout).
      const seen = new Set<number>();
      const until = Date.now() + 2000;
      await waitFor(
        async () => {
          seen.add(await readyz(fresh));
          return Date.now() >= until;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'two seconds of /readyz answers' },
      );
      expect([...seen]).toEqual([503]);
      process.kill(pid, 'SIGCONT');
      await waitForStatus(fresh, (s) =>
        (s.peers as Array<{ state: string; clients: number }>).some((p) => p.state === 'live' && p.clients === 1),
      );
      // The client dials only the busy server, so the new one holds none: still not ready.
      expect(await readyz(fresh)).toBe(503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
