import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newToken, waitFor } from '@tunnel/testing';
import { suiteContext } from './support/context.ts';
import { NAME_PREFIX, docker, dockerOk, repoRoot, run, type CliResult } from './support/docker.ts';
import { tally, whoAnswers } from './support/http.ts';

// The docker-compose.yml demo, as users run it: up --build, round-robin through the two Pis,
// the exit server cut off from the apps, graceful stop, down. With every compose found: v2
// (`docker compose`) and v1 (`docker-compose`, the one Debian 12 ships).

interface Compose {
  readonly name: 'v1' | 'v2';
  readonly cmd: string;
  readonly prefix: string[];
}
const CANDIDATES: Compose[] = [
  { name: 'v2', cmd: 'docker', prefix: ['compose'] },
  { name: 'v1', cmd: 'docker-compose', prefix: [] },
];

async function available(c: Compose): Promise<boolean> {
  try {
    // Generous: a loaded host takes seconds just to start the Python of compose v1 (see COMPOSE_TEST_TIMEOUT_MS).
    return (await run(c.cmd, [...c.prefix, 'version'], { timeoutMs: 120_000 })).code === 0;
  } catch {
    return false;
  }
}
const found = (await Promise.all(CANDIDATES.map(available)))
  .map((ok, i) => (ok ? CANDIDATES[i] : undefined))
  .filter((c): c is Compose => !!c);

/**
 * Per compose: three image builds, five containers and ten compose CLI calls (v1 is Python: ~1
 * CPU-second each, 8-9.5 s wall at load 18 on 2 cores). 35 s at load 16; at load 20-38 the
 * whole test took 196 s, over the suite's 180 s, with `up --build` alone 85-109 s. `up` gets
 * 420 s of it, so that it fails with its own output first.
 */
const COMPOSE_TEST_TIMEOUT_MS = 600_000;
const UP_TIMEOUT_MS = 420_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('docker-compose.yml demo', () => {
  it('a compose implementation is installed (scripts/ci/setup-docker.sh installs docker-compose)', () => {
    expect(
      found.map((c) => c.name),
      'neither `docker compose` (v2) nor `docker-compose` (v1) works: run scripts/ci/setup-docker.sh',
    ).not.toEqual([]);
  });

  it.each(found.map((c) => [c.name, c] as const))(
    'compose %s: up, round-robin between the Pis, isolation, graceful stop, down',
    async (_name, compose) => {
      const { owner } = suiteContext();
      const project = `${NAME_PREFIX}-${owner}-compose-${compose.name}`;
      const dir = mkdtempSync(join(tmpdir(), 'tce2e-compose-'));
      const token = newToken();
      const adminToken = newToken();
      writeFileSync(join(dir, 'env'), `TUNNEL_TOKEN=${token}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'admin-env'), `TUNNEL_ADMIN_TOKEN=${adminToken}\n`, { mode: 0o600 });
      const env = {
        ...process.env,
        BASE_IMAGE: 'tunnel-node-base:amd64',
        PREBUILT: '1',
        DEMO_PORT: '0',
        DEMO_CONTROL_PORT: '0',
        DEMO_TAG: project,
        TUNNEL_ENV_FILE: join(dir, 'env'),
        TUNNEL_ADMIN_ENV_FILE: join(dir, 'admin-env'),
        DOCKER_BUILDKIT: '0',
        COMPOSE_DOCKER_CLI_BUILD: '0',
      };
      const c = async (args: string[], timeoutMs = 300_000): Promise<CliResult> =>
        run(compose.cmd, [...compose.prefix, '-p', project, '-f', `${repoRoot}docker-compose.yml`, ...args], { env, timeoutMs });
      const ok = async (args: string[], timeoutMs?: number): Promise<string> => {
        const r = await c(args, timeoutMs);
        if (r.code !== 0)
          throw new Error(
            `compose ${args.join(' ')} exited ${r.code}:\n${(r.stderr || r.stdout).trim().split('\n').slice(-20).join('\n')}`,
          );
        return r.stdout;
      };
      cleanups.push(async () => {
        await c(['down', '-v', '--remove-orphans', '-t', '5'], 120_000);
        for (const app of ['exit-server', 'edge-client', 'sample-app']) await docker(['image', 'rm', `tunnel/${app}:${project}`]);
        rmSync(dir, { recursive: true, force: true });
      });

      const t0 = Date.now();
      await ok(['up', '--build', '-d'], UP_TIMEOUT_MS);
      const port = async (service: string, p: number) => Number(/:(\d+)\s*$/.exec((await ok(['port', service, String(p)])).trim())?.[1]);
      const publicUrl = `http://127.0.0.1:${await port('exit', 8000)}`;
      const controlUrl = `http://127.0.0.1:${await port('exit', 8123)}`;
      // readiness on state: both Pis listed by /status
      let ids: string[] = [];
      const bothListed = async () => {
        const res = await fetch(`${controlUrl}/status`, { headers: { authorization: `Bearer ${adminToken}` } }).catch(() => undefined);
        if (res?.status === 200) ids = ((await res.json()) as { clients: Array<{ id: string }> }).clients.map((x) => x.id).sort();
        return ids.join() === 'pi-1,pi-2';
      };
      // On a timeout the expect below names the ids /status listed last.
      await waitFor(bothListed, { timeoutMs: 60_000, intervalMs: 100 }).catch(() => undefined);
      expect(ids).toEqual(['pi-1', 'pi-2']);
      console.log(`[compose ${compose.name}] up --build and both tunnels established in ${Date.now() - t0} ms`);

      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await whoAnswers(publicUrl));
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      expect(tally(answers, (a) => a.instance ?? 'none')).toEqual({ 'pi-1': 10, 'pi-2': 10 });

      // the exit server cannot even resolve the apps; the apps publish nothing
      const exitId = (await ok(['ps', '-q', 'exit'])).trim();
      const probe = await docker([
        'exec',
        exitId,
        'node',
        '-e',
        "require('net').connect(3000,'pi-1-app').on('connect',()=>process.exit(0)).on('error',e=>{console.log(e.code);process.exit(2)})",
      ]);
      expect(probe.code).toBe(2);
      expect(probe.stdout.trim()).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
      for (const service of ['pi-1-app', 'pi-2-app', 'pi-1-client', 'pi-2-client']) {
        const id = (await ok(['ps', '-q', service])).trim();
        expect(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Ports}}', id]), service).not.toMatch(/HostPort/);
      }

      // docker compose stop: every container drains on SIGTERM and exits 0
      const ids5 = (await ok(['ps', '-q'])).trim().split('\n').filter(Boolean);
      expect(ids5).toHaveLength(5);
      const tStop = Date.now();
      await ok(['stop', '-t', '20'], 120_000);
      const stopMs = Date.now() - tStop;
      const codes = (await dockerOk(['inspect', '-f', '{{.Name}} {{.State.ExitCode}}', ...ids5])).trim().split('\n');
      console.log(`[compose ${compose.name}] stop took ${stopMs} ms: ${codes.join(', ')}`);
      // 0 each: they exited by themselves (a SIGKILL after the 20 s grace would give 137)
      expect(codes.map((l) => l.split(' ')[1])).toEqual(ids5.map(() => '0'));
    },
    COMPOSE_TEST_TIMEOUT_MS,
  );
});
