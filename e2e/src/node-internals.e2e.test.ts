import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  download,
  generatedBody,
  httpRequest,
  newToken,
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

// The whole tunnel on a node whose private socket internals changed (simulated by a preload that
// hides the TCP handle's useUserBuffer() on every socket the apps would move onto pooled reads):
// both ends fall back to node's own copying reads, say so once, and carry bodies intact.
// libs/tunnel-io's socket-internals.test.ts is the test that fails on such a node.

const PRELOAD = fileURLToPath(new URL('./fixtures/changed-node-internals.cjs', import.meta.url));
const CHANGED_NODE = { NODE_OPTIONS: `--require ${PRELOAD}` };
const WARNING = '[TUNNEL_NODE_INTERNALS]';
const MB = 1024 * 1024;

const token = newToken();
let server: ExitServerProc;
let app: SampleApp;
let client: Proc;

beforeAll(async () => {
  [server, app] = await Promise.all([startExitServer(token, [], {}, CHANGED_NODE), startSampleApp('pi-1')]);
  client = await startEdgeClient(token, server.controlUrl, 'pi-1', [app.url], { env: CHANGED_NODE });
  await waitForStatus(server, (s) => s.clients.length === 1);
});
afterAll(stopAll);

describe('on a node whose socket internals changed', () => {
  it('both ends warn once that they keep copying reads', async () => {
    await httpRequest(`${server.publicUrl}/`);
    for (const proc of [server.proc, client]) {
      const line = await proc.waitForLine((l) => l.includes(WARNING));
      expect(line).toContain('the TCP handle has no useUserBuffer()');
      expect(proc.lines.filter((l) => l.includes(WARNING))).toHaveLength(1);
    }
  });

  it('carries a 20 MB download and a 20 MB upload intact, without the exit server pooling a single read', async () => {
    const direct = await download(`${app.url}/bytes/${20 * MB}`);
    const tunneled = await download(`${server.publicUrl}/bytes/${20 * MB}`);
    expect(tunneled.status).toBe(200);
    expect(tunneled.bytes).toBe(20 * MB);
    expect(tunneled.sha256).toBe(direct.sha256);

    const body = generatedBody(20 * MB);
    const res = await httpRequest(`${server.publicUrl}/echo`, {
      method: 'POST',
      body: body.stream,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body);
    expect(seen.bodyBytes).toBe(20 * MB);
    expect(seen.bodySha256).toBe(body.sha256());

    // Every socket the exit server reads (control and public) kept node's reads: the fallback was taken.
    const pool = (await status(server)).readPool as { acquired: number };
    expect(pool.acquired).toBe(0);
  });
});
