import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
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
  type SampleApp,
} from '@tunnel/testing';

const token = newToken();
let server: ExitServerProc;
let app: SampleApp;
const MB = 1024 * 1024;

beforeAll(async () => {
  [server, app] = await Promise.all([startExitServer(token), startSampleApp('pi-1')]);
  await startEdgeClient(token, server.controlUrl, 'pi-1', [app.url]);
  await waitForStatus(server, (s) => s.clients.length === 1);
  // Warm up so the memory baseline includes code paths, not just an idle heap.
  await httpRequest(`${server.publicUrl}/`);
});
afterAll(stopAll);

describe('bodies and protocols stream through the tunnel', () => {
  it('carries a 50 MB download intact', async () => {
    const direct = await download(`${app.url}/bytes/${50 * MB}`);
    const tunneled = await download(`${server.publicUrl}/bytes/${50 * MB}`);
    expect(tunneled.status).toBe(200);
    expect(tunneled.bytes).toBe(50 * MB);
    expect(tunneled.sha256).toBe(direct.sha256);
    // It came through reused, poisoned read buffers (see TUNNEL_TEST_ENV): a slice kept without
    // a lease would have broken the hash.
    const pool = (await status(server)).readPool as { acquired: number; overBudgetReads: number };
    expect(pool.acquired).toBeGreaterThan(0);
    expect(pool.overBudgetReads).toBe(0);
  });

  it('carries a 50 MB upload intact', async () => {
    const body = generatedBody(50 * MB);
    const res = await httpRequest(`${server.publicUrl}/echo`, {
      method: 'POST',
      body: body.stream,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body);
    expect(seen.bodyBytes).toBe(50 * MB);
    expect(seen.bodySha256).toBe(body.sha256());
    expect(seen.headers['transfer-encoding']).toBe('chunked');
  });

  it('passes HTTP trailers and Expect: 100-continue through', async () => {
    const url = new URL(`${server.publicUrl}/bytes/100000?trailer=1`);
    const trailed = await new Promise<{ sha256: string; trailer: string | undefined }>((resolve, reject) => {
      const req = request(url, { agent: false }, (res) => {
        const hash = createHash('sha256');
        res.on('data', (c: Buffer) => hash.update(c));
        res.on('end', () => resolve({ sha256: hash.digest('hex'), trailer: res.trailers['x-sha256'] }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(trailed.trailer).toBe(trailed.sha256);

    const continued = await new Promise<{ sawContinue: boolean; status: number; body: string }>((resolve, reject) => {
      let sawContinue = false;
      const req = request(
        new URL(`${server.publicUrl}/echo`),
        { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '5' } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ sawContinue, status: res.statusCode ?? 0, body: text }));
        },
      );
      // The body goes only once the upstream said 100 Continue through the tunnel.
      req.on('continue', () => {
        sawContinue = true;
        req.end('hello');
      });
      req.on('error', reject);
    });
    expect(continued.sawContinue).toBe(true);
    expect(continued.status).toBe(200);
    expect(JSON.parse(continued.body).bodyBytes).toBe(5);
  });

  it('keeps the exit server memory far below the body size on 200 MB each way', async () => {
    // Garbage from earlier tests settles at a plateau; a buffered body would add its full size.
    const before = server.proc.memory();
    const down = await download(`${server.publicUrl}/bytes/${200 * MB}`);
    expect(down.bytes).toBe(200 * MB);
    const body = generatedBody(200 * MB);
    const up = await httpRequest(`${server.publicUrl}/echo`, { method: 'POST', body: body.stream });
    expect(JSON.parse(up.body).bodySha256).toBe(body.sha256());
    const after = server.proc.memory();
    expect(after.peak - before.rss).toBeLessThan(64 * MB);
  });

  it('delivers Server-Sent Events in order, each as it is sent', async () => {
    const res = await fetch(`${server.publicUrl}/sse?count=5&interval=50`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    if (!res.body) throw new Error('the SSE response has no body');
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const arrivals: number[] = [];
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      arrivals.push(Date.now());
    }
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).toHaveLength(5);
    // Streamed, not buffered until the end: the events arrived in several reads spread over time.
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(100);
  });

  it('round-trips WebSocket text and binary messages', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const received: Array<{ data: string; binary: boolean }> = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer, binary: boolean) => {
        received.push({ data: binary ? createHash('sha256').update(data).digest('hex') : data.toString(), binary });
        if (received.length === 3) resolve();
      }),
    );
    const blob = Buffer.alloc(300 * 1024, 9);
    ws.send('hello');
    ws.send(blob);
    ws.send('bye');
    await done;
    expect(received).toEqual([
      { data: 'hello', binary: false },
      { data: createHash('sha256').update(blob).digest('hex'), binary: true },
      { data: 'bye', binary: false },
    ]);
    ws.close();
    await new Promise((r) => ws.once('close', r));
  });
});
