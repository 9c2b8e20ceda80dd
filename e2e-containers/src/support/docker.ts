import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Repository root (the Dockerfiles' build context). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Label on every container, network and compose project this suite creates: the owning process id. */
export const OWNER_LABEL = 'tunnel.e2e-containers.owner';
/** Prefix of container, network and compose project names. */
export const NAME_PREFIX = 'tce2e';

/** What the suite needs from the machine; part of every "no Docker" failure (with the command to run). */
export const HOW_TO_GET_DOCKER =
  'The container tests need a Docker engine, arm64 emulation (qemu-user-static + binfmt_misc) and the local base images: ' +
  'scripts/ci/setup-docker.sh (Debian 12, as root) installs docker.io, qemu-user-static and binfmt-support, starts dockerd, ' +
  'enables qemu-aarch64 and builds tunnel-node-base:amd64/arm64 (Node 24) with scripts/docker/base-image.sh.';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command (no shell) and collects its output; never rejects except on spawn failure. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The docker CLI. Builds use Docker's classic builder (DOCKER_BUILDKIT=0): Debian's engine has
 * no buildx, and the Dockerfiles are written to work with both builders.
 */
export function docker(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return run('docker', args, { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeoutMs: opts.timeoutMs ?? 300_000 });
}

/** Like {@link docker} but throws (with the command's output) unless it exits 0. */
export async function dockerOk(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0)
    throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${(r.stderr || r.stdout).trim().split('\n').slice(-25).join('\n')}`);
  return r.stdout;
}

/** Undefined when the Docker engine answers; otherwise why not, with how to fix it. */
export async function dockerProblem(): Promise<string | undefined> {
  let r: CliResult;
  try {
    r = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 });
  } catch (err) {
    return `the docker CLI could not be run (${(err as Error).message}). ${HOW_TO_GET_DOCKER}`;
  }
  if (r.code !== 0 || !r.stdout.trim())
    return `Docker is not reachable: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}. ${HOW_TO_GET_DOCKER}`;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch (err) {
    return `testcontainers cannot reach Docker (${(err as Error).message}). ${HOW_TO_GET_DOCKER}`;
  }
  return undefined;
}

export type Arch = 'amd64' | 'arm64';
export type AppName = 'exit-server' | 'edge-client' | 'sample-app';

/** Images the suite runs, by `<app>:<arch>`. */
export type Images = Record<`${AppName}:${Arch}`, string>;

/** The image builds: all three apps for amd64, the device-side ones also for arm64. */
export const IMAGE_BUILDS: ReadonlyArray<{ app: AppName; arch: Arch }> = [
  { app: 'exit-server', arch: 'amd64' },
  { app: 'edge-client', arch: 'amd64' },
  { app: 'sample-app', arch: 'amd64' },
  { app: 'edge-client', arch: 'arm64' },
  { app: 'sample-app', arch: 'arm64' },
];

export const baseImage = (arch: Arch): string => `tunnel-node-base:${arch}`;

/** The Node version scripts/node/versions.env pins for an architecture (what the base images run). */
export function pinnedNodeVersion(arch: Arch): string {
  const env = readFileSync(`${repoRoot}scripts/node/versions.env`, 'utf8');
  const version = new RegExp(`^NODE24_${arch.toUpperCase()}_VERSION=(\\S+)$`, 'm').exec(env)?.[1];
  if (!version) throw new Error(`scripts/node/versions.env pins no NODE24_${arch.toUpperCase()}_VERSION`);
  return version;
}

/**
 * Builds one app image from its real Dockerfile (PREBUILT=1: the host's `npm run build` output,
 * no network) on the local base image. The tag is a hash of everything that goes into the image,
 * so an unchanged image is reused and concurrent runs with different code never share a tag.
 */
export async function buildImage(app: AppName, arch: Arch): Promise<{ tag: string; built: boolean; ms: number }> {
  const t0 = Date.now();
  const bundle = `${repoRoot}apps/${app}/dist/main.js`;
  if (!existsSync(bundle))
    throw new Error(`${bundle} is missing: run \`npm run build\` first (the nx test target depends on the apps' build)`);
  const baseId = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', baseImage(arch)])).trim();
  const hash = createHash('sha256');
  for (const f of [`apps/${app}/Dockerfile`, '.dockerignore', `apps/${app}/dist/main.js`, `apps/${app}/dist/main.js.map`]) {
    hash.update(f).update(existsSync(repoRoot + f) ? readFileSync(repoRoot + f) : '');
  }
  hash.update(baseId).update(arch);
  const tag = `tunnel-e2e/${app}:${arch}-${hash.digest('hex').slice(0, 16)}`;
  if ((await docker(['image', 'inspect', '-f', '{{.Id}}', tag])).code === 0) return { tag, built: false, ms: Date.now() - t0 };
  await dockerOk(
    [
      'build',
      '--platform',
      `linux/${arch}`,
      '--build-arg',
      `BASE_IMAGE=${baseImage(arch)}`,
      '--build-arg',
      'PREBUILT=1',
      '--label',
      'tunnel.e2e-containers.image=1',
      '-f',
      `apps/${app}/Dockerfile`,
      '-t',
      tag,
      '.',
    ],
    { timeoutMs: 600_000 },
  );
  return { tag, built: true, ms: Date.now() - t0 };
}

/**
 * Removes suite images older than a day that are not among `keep` (failures ignored: in use), and
 * the untagged build-stage images the classic builder leaves behind for images made on our base
 * images (they carry its label), once they are an hour old (never one a running build still uses).
 */
export async function pruneOldImages(keep: string[]): Promise<void> {
  await docker(['image', 'prune', '-f', '--filter', 'label=tunnel.base.key', '--filter', 'until=1h']);
  const r = await docker(['image', 'ls', '--filter', 'label=tunnel.e2e-containers.image=1', '--format', '{{.Repository}}:{{.Tag}}']);
  const tags = r.stdout.split('\n').filter((t) => t && !t.endsWith(':<none>') && !keep.includes(t));
  if (r.code !== 0 || tags.length === 0) return;
  const info = await docker(['image', 'inspect', '-f', '{{index .RepoTags 0}}\t{{.Created}}', ...tags]);
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const line of info.stdout.split('\n').filter(Boolean)) {
    const [tag, created] = line.split('\t');
    if (Date.parse(created) < dayAgo) await docker(['image', 'rm', tag]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes containers, networks and compose projects left by runs of this suite that are over:
 * with `pid`, everything this run (that process) created (global teardown); without, what runs
 * whose process is gone left behind (a crash or a kill skips afterAll, and Ryuk, which would reap
 * them, cannot be pulled here). Only things older than the longest run count as left behind, in
 * case another run shares the Docker engine from another process namespace.
 */
export async function removeLeftovers(pid?: number): Promise<string[]> {
  const removed: string[] = [];
  const oldEnough = Date.now() - 30 * 60_000;
  const over = (owner: string, created: string) => {
    const n = Number(owner);
    if (pid !== undefined) return n === pid;
    return Number.isInteger(n) && n > 0 && !alive(n) && Date.parse(created) < oldEnough;
  };
  const ownerOf = (name: string) => new RegExp(`^/?${NAME_PREFIX}-(\\d+)-`).exec(name)?.[1] ?? '';
  // every container and network of the suite is named tce2e-<pid>-... (compose projects too)
  const cs = await docker(['ps', '-aq', '--filter', `name=${NAME_PREFIX}-`]);
  const ids = cs.stdout.split('\n').filter(Boolean);
  if (ids.length > 0) {
    const info = await docker(['inspect', '-f', '{{.Id}}\t{{.Name}}\t{{.Created}}', ...ids]);
    const victims: string[] = [];
    for (const line of info.stdout.split('\n').filter(Boolean)) {
      const [id, name, created] = line.split('\t');
      if (over(ownerOf(name), created)) {
        victims.push(id);
        removed.push(name.replace(/^\//, ''));
      }
    }
    if (victims.length > 0) await docker(['rm', '-f', '-v', ...victims]);
  }
  const ns = await docker(['network', 'ls', '-q', '--filter', `name=${NAME_PREFIX}-`]);
  const nids = ns.stdout.split('\n').filter(Boolean);
  if (nids.length > 0) {
    const info = await docker(['network', 'inspect', '-f', '{{.Id}}\t{{.Name}}\t{{.Created}}', ...nids]);
    for (const line of info.stdout.split('\n').filter(Boolean)) {
      const [id, name, created] = line.split('\t');
      if (over(ownerOf(name), created)) {
        await docker(['network', 'rm', id]);
        removed.push(name);
      }
    }
  }
  return removed;
}
