import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@tunnel/testing';
import { suiteContext } from './support/context.ts';
import { NAME_PREFIX, OWNER_LABEL, baseImage, docker, dockerOk, pinnedNodeVersion, repoRoot, type Arch } from './support/docker.ts';

// The images themselves, built from apps/<app>/Dockerfile by the global setup: what is in them,
// how they run, and that their HEALTHCHECK works.

interface ImageInfo {
  Id: string;
  Architecture: string;
  Size: number;
  Config: {
    User: string;
    Entrypoint: string[] | null;
    StopSignal?: string;
    Healthcheck?: { Test: string[] };
    Labels: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown>;
  };
}

async function inspectImage(tag: string): Promise<ImageInfo> {
  return (JSON.parse(await dockerOk(['image', 'inspect', tag])) as ImageInfo[])[0];
}

const started: string[] = [];
afterAll(async () => {
  if (started.length > 0) await docker(['rm', '-f', ...started]);
});

describe('app images', () => {
  const cases: Array<{ app: 'exit-server' | 'edge-client' | 'sample-app'; arch: Arch; health: boolean; ports: string[] }> = [
    { app: 'exit-server', arch: 'amd64', health: true, ports: ['8000/tcp', '8123/tcp'] },
    { app: 'edge-client', arch: 'amd64', health: false, ports: [] },
    { app: 'sample-app', arch: 'amd64', health: true, ports: ['3000/tcp'] },
    { app: 'edge-client', arch: 'arm64', health: false, ports: [] },
    { app: 'sample-app', arch: 'arm64', health: true, ports: ['3000/tcp'] },
  ];

  it.each(cases)('$app ($arch): non-root, SIGTERM, OCI labels, only the bundle on the base image', async ({ app, arch, health, ports }) => {
    const { images } = suiteContext();
    const tag = images[`${app}:${arch}`];
    const info = await inspectImage(tag);
    const base = await inspectImage(baseImage(arch));
    expect(info.Architecture).toBe(arch);
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.StopSignal).toBe('SIGTERM');
    const tuned = app === 'sample-app' ? [] : ['--max-semi-space-size=1'];
    expect(info.Config.Entrypoint).toEqual(['node', '--enable-source-maps', ...tuned, '/app/main.js']);
    expect(Object.keys(info.Config.ExposedPorts ?? {}).sort()).toEqual(ports);
    if (health) expect(info.Config.Healthcheck?.Test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    else expect(info.Config.Healthcheck?.Test).toEqual(['NONE']);
    expect(info.Config.Labels).toMatchObject({
      'org.opencontainers.image.title': `tunnel ${app}`,
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.base.name': baseImage(arch),
    });
    // the final stage adds the bundle (+ source map) and nothing else
    const added = info.Size - base.Size;
    console.log(
      `[images] ${tag}: ${(info.Size / 1e6).toFixed(1)} MB (base ${(base.Size / 1e6).toFixed(1)} MB + app ${(added / 1e6).toFixed(1)} MB)`,
    );
    expect(added).toBeLessThan(15e6);
    const platform = ['--platform', `linux/${arch}`];
    const listing = await dockerOk([
      'run',
      '--rm',
      '--network',
      'none',
      ...platform,
      '--entrypoint',
      'sh',
      tag,
      '-c',
      'id -u; ls -A /app; find / -xdev -name node_modules',
    ]);
    expect(listing.trim().split('\n')).toEqual(['1000', 'main.js', 'main.js.map']);
    const help = await dockerOk(['run', '--rm', '--network', 'none', ...platform, tag, '--help']);
    expect(help).toContain(`Usage: ${app}`);
  });

  it.each(cases)('$app ($arch): runs Node 24, the version pinned in scripts/node/versions.env', async ({ app, arch }) => {
    const { images } = suiteContext();
    const version = (
      await dockerOk([
        'run',
        '--rm',
        '--network',
        'none',
        '--platform',
        `linux/${arch}`,
        '--entrypoint',
        'node',
        images[`${app}:${arch}`],
        '--version',
      ])
    ).trim();
    expect(version).toMatch(/^v24\.\d+\.\d+$/);
    expect(version).toBe(`v${pinnedNodeVersion(arch)}`);
  });

  it.each(['exit-server', 'edge-client', 'sample-app'])('%s: the Dockerfile defaults to Node 24 LTS slim Debian', (app) => {
    const dockerfile = readFileSync(`${repoRoot}apps/${app}/Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE=node:24-bookworm-slim$/m);
  });

  it.each(['exit-server', 'sample-app'] as const)('%s: the HEALTHCHECK turns healthy', async (app) => {
    const { images, owner } = suiteContext();
    const name = `${NAME_PREFIX}-${owner}-health-${app}`;
    started.push(name);
    // the image's own check command, run every 500 ms instead of 10 s
    await dockerOk([
      'run',
      '-d',
      '--init',
      '--name',
      name,
      '--label',
      `${OWNER_LABEL}=${owner}`,
      '--network',
      'none',
      '-e',
      'TUNNEL_TOKEN=health-check-token-0123456789abcdef',
      '--health-interval',
      '500ms',
      images[`${app}:amd64`],
    ]);
    let health = '';
    const settled = async () => {
      health = (await dockerOk(['inspect', '-f', '{{.State.Health.Status}}', name])).trim();
      return health === 'healthy' || health === 'unhealthy';
    };
    // On a timeout the expect below names the last health status.
    await waitFor(settled, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => undefined);
    expect(health).toBe('healthy');
    // and it stops on SIGTERM by itself: exit code 0, where docker's SIGKILL after 20 s would give 137
    await dockerOk(['stop', '-t', '20', name]);
    expect((await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', name])).trim()).toBe('0');
  });
});
