import { spawn, spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import './support/context.ts';
import { SETUP_DOCKER_COMMAND, ensureDocker } from './support/ensure-docker.ts';
import {
  HOW_TO_GET_DOCKER,
  IMAGE_BUILDS,
  buildImage,
  dockerProblem,
  pruneOldImages,
  removeLeftovers,
  repoRoot,
  type Images,
} from './support/docker.ts';

/** Runs scripts/ci/setup-docker.sh, its output shown as it goes; resolves with its status and output tail. */
function runSetupDocker(): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/ci/setup-docker.sh'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer) => {
      process.stderr.write(d);
      tail = (tail + d.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => resolve({ status: null, output: `${tail}\n${err.message}` }));
    child.once('close', (status) => resolve({ status, output: tail }));
  });
}

/**
 * Once per run: checks Docker (as root, installs and starts it first when missing: see
 * {@link ensureDocker}), makes the local base images (scripts/docker/base-image.sh, a no-op
 * when they exist) and builds the app images from their real Dockerfiles. A missing Docker is
 * not an error here: it is handed to the tests, which then fail with how to get Docker (a suite
 * that cannot run must fail, never pass or skip).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const owner = process.pid;
  project.provide('owner', owner);
  project.provide('images', {} as Images);
  project.provide('dockerError', '');
  const problem = await ensureDocker({ dockerProblem, uid: process.getuid?.(), runSetup: runSetupDocker, log: (l) => console.log(l) });
  if (problem) {
    project.provide('dockerError', problem);
    return async () => {};
  }
  const stale = await removeLeftovers();
  if (stale.length > 0) console.log(`[e2e-containers] removed leftovers of earlier runs: ${stale.join(', ')}`);

  const t0 = Date.now();
  const base = spawnSync('bash', ['scripts/docker/base-image.sh'], { cwd: repoRoot, encoding: 'utf8' });
  if (base.status !== 0) {
    project.provide(
      'dockerError',
      `scripts/docker/base-image.sh failed (exit ${base.status}):\n${(base.stderr || base.stdout).trim()}\n${HOW_TO_GET_DOCKER}\nRun:\n  ${SETUP_DOCKER_COMMAND}`,
    );
    return async () => {};
  }
  try {
    const images = {} as Images;
    // two builds at a time: the classic builder is mostly I/O, the machine has 2 cores
    const queue = [...IMAGE_BUILDS];
    const lines: string[] = [];
    await Promise.all(
      [0, 1].map(async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const r = await buildImage(next.app, next.arch);
          images[`${next.app}:${next.arch}`] = r.tag;
          lines.push(`${r.tag} ${r.built ? `built in ${(r.ms / 1000).toFixed(1)} s` : 'up to date'}`);
        }
      }),
    );
    console.log(`[e2e-containers] images ready in ${((Date.now() - t0) / 1000).toFixed(1)} s:\n  ${lines.join('\n  ')}`);
    project.provide('images', images);
    await pruneOldImages(Object.values(images));
  } catch (err) {
    project.provide('dockerError', `building the images failed: ${(err as Error).message}`);
  }
  return async () => {
    const left = await removeLeftovers(owner);
    if (left.length > 0) console.log(`[e2e-containers] removed containers/networks a test file left behind: ${left.join(', ')}`);
  };
}
