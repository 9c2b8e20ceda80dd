import { afterAll, describe, expect, it } from 'vitest';
import { newToken, startExitServer, stopAll, waitFor, waitForStatus, type ExitServerProc } from '@tunnel/testing';
import { Swarm } from './swarm.ts';

const MB = 1024 * 1024;
const CLIENTS = 500;
/** The edge client's defaults (--reconnect-min 500ms, --reconnect-max 30s). */
const RECONNECT = { reconnectMinMs: 500, reconnectMaxMs: 30_000 };

let swarm: Swarm | undefined;
afterAll(async () => {
  swarm?.stop();
  await stopAll();
});

/** RSS once it has stopped moving: sampled until two readings 500 ms apart differ by under 1 MB (the last one after 20 s). */
async function settledRss(server: ExitServerProc): Promise<number> {
  let last = server.proc.memory().rss;
  let first = true;
  const settled = () => {
    // waitFor checks at once: the first comparison is due one interval after the first reading.
    if (first) {
      first = false;
      return undefined;
    }
    const now = server.proc.memory().rss;
    const still = Math.abs(now - last) < MB;
    last = now;
    return still ? now : undefined;
  };
  return waitFor(settled, { timeoutMs: 20_000, intervalMs: 500, what: 'RSS to settle' }).catch(() => last);
}

describe('a reconnect storm', () => {
  it("500 clients reconnecting at once after a server restart are spread by jitter, and the server's memory returns to its baseline", async () => {
    const token = newToken();
    const first = await startExitServer(token);
    swarm = new Swarm({ url: first.controlUrl, token, count: CLIENTS, ...RECONNECT });
    await swarm.start();
    await waitForStatus(first, (s) => s.clients.length === CLIENTS, 30_000);
    const baseline = await settledRss(first);

    // Kill it: every session drops at once, as when a server host dies.
    const before = swarm.attachedAt.length;
    expect(await first.proc.stop('SIGKILL')).toBeNull();
    const down = Date.now();
    const second = await startExitServer(
      token,
      [],
      { port: first.port, controlPort: first.controlPort },
      {},
      { adminToken: first.adminToken },
    );
    await waitForStatus(second, (s) => s.clients.length === CLIENTS, 30_000);
    const back = swarm.attachedAt.slice(before).map((t) => t - down);
    expect(back).toHaveLength(CLIENTS);

    // Spread: in lockstep all 500 would land within a few milliseconds. Full jitter over the
    // first 500 ms window puts a fifth to a third of the fleet in its busiest 100 ms (measured:
    // 25-33%, depending on when the new server is up), and spreads arrivals over at least that window.
    back.sort((a, b) => a - b);
    let crowd = 0;
    for (let i = 0, j = 0; i < back.length; i++) {
      while (back[i] - back[j] > 100) j++;
      crowd = Math.max(crowd, i - j + 1);
    }
    const span = back[back.length - 1] - back[0];
    const peak = second.proc.memory().peak;
    const after = await settledRss(second);
    console.log(
      `[storm] ${CLIENTS} clients back over ${span} ms (busiest 100 ms: ${crowd}); RSS baseline ${(baseline / MB).toFixed(1)} MB, restarted server peak ${(peak / MB).toFixed(1)} MB, settled ${(after / MB).toFixed(1)} MB`,
    );
    expect(crowd).toBeLessThan(CLIENTS / 2);
    expect(span).toBeGreaterThan(RECONNECT.reconnectMinMs);
    // Back to the baseline (500 sessions held), give or take allocator slack.
    expect(after).toBeLessThan(baseline * 1.25 + 10 * MB);
  }, 120_000);
});
