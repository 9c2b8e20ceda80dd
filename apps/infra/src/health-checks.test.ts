import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HealthCheck } from 'aws-cdk-lib/aws-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { edgeClientHealthCheck, httpHealthCheck } from './health-checks.ts';

/** Runs a health check's `CMD node -e ...` command the way the container runtime would; returns its exit code. */
function run(check: HealthCheck): number | null {
  const [kind, program, ...args] = check.command;
  expect([kind, program]).toEqual(['CMD', 'node']);
  return spawnSync(process.execPath, args, { timeout: 10_000 }).status;
}

describe('container health checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'health-checks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('edge client: healthy exactly while its health file exists', () => {
    const file = join(dir, 'edge-client.healthy');
    expect(run(edgeClientHealthCheck(file))).toBe(1);
    writeFileSync(file, 'connected since ...\n');
    expect(run(edgeClientHealthCheck(file))).toBe(0);
  });

  it('HTTP: healthy on 200 from /healthz, unhealthy on any other status or no listener', async () => {
    let status = 200;
    const paths: string[] = [];
    const server: Server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      // The check must not block this process's event loop, which serves the requests: run it async.
      const runAsync = () =>
        new Promise<number | null>((resolve) => {
          const [, , ...args] = httpHealthCheck(port).command;
          spawn(process.execPath, args).once('exit', (code) => resolve(code));
        });
      expect(await runAsync()).toBe(0);
      status = 503;
      expect(await runAsync()).toBe(1);
      expect(paths).toEqual(['/healthz', '/healthz']);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(run(httpHealthCheck(port))).toBe(1);
  });
});
