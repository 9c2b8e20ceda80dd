import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppImage, buildContextFiles, type ImageApp, REPO_ROOT } from './app-image.ts';

const APPS: readonly ImageApp[] = ['exit-server', 'edge-client', 'sample-app'];

/**
 * A throw-away copy of the workspace's sources (apps, libs, lockfile, build script, docs), with a
 * node_modules whose `@tunnel/*` links point into the copy, so edits there reach the bundles.
 */
function copyWorkspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'app-image-'));
  const skip = (src: string) => !/[/\\](node_modules|dist|cdk\.out|coverage)([/\\]|$)/.test(src);
  for (const path of [
    'package.json',
    'package-lock.json',
    'tsconfig.base.json',
    '.dockerignore',
    'scripts/build-app.mjs',
    'docs',
    'libs',
    ...APPS.map((a) => `apps/${a}`),
  ]) {
    cpSync(join(REPO_ROOT, path), join(root, path), { recursive: true, filter: skip });
  }
  const modules = join(REPO_ROOT, 'node_modules');
  mkdirSync(join(root, 'node_modules', '@tunnel'), { recursive: true });
  for (const name of readdirSync(modules)) {
    if (name === '@tunnel') continue;
    symlinkSync(join(modules, name), join(root, 'node_modules', name));
  }
  for (const name of readdirSync(join(modules, '@tunnel'))) {
    // npm's workspace links are relative (../../libs/config): the same link inside the copy points into the copy.
    symlinkSync(readlinkSync(join(modules, '@tunnel', name)), join(root, 'node_modules', '@tunnel', name));
  }
  return root;
}

/** Bundles every app in the copy, as `nx run-many -t build` does (the same script). */
function buildAll(root: string): void {
  for (const app of APPS) {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-app.mjs')], { cwd: join(root, 'apps', app), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build of ${app} failed: ${r.stderr}`);
  }
}

/** One image as the assets manifest records it, with the files staged as its build context. */
interface StagedImage {
  readonly hash: string;
  readonly context: string[];
  readonly buildArgs: Record<string, string> | undefined;
}

/** Synthesizes the three images from the copy and reads them back from the assets manifest. */
function synthImages(root: string): Record<ImageApp, StagedImage> {
  const outdir = mkdtempSync(join(tmpdir(), 'app-image-out-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Images');
    const hashes = new Map(APPS.map((a) => [a, new AppImage(stack, a, { app: a, repoRoot: root }).asset.assetHash]));
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'Images.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerBuildArgs?: Record<string, string> } }>;
    };
    const result = {} as Record<ImageApp, StagedImage>;
    for (const [a, hash] of hashes) {
      const { source } = manifest.dockerImages[hash];
      result[a] = { hash, context: listFiles(join(outdir, source.directory)), buildArgs: source.dockerBuildArgs };
    }
    return result;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

const hashes = (r: Record<ImageApp, { hash: string }>) => Object.fromEntries(APPS.map((a) => [a, r[a].hash]));

describe('AppImage: per-app build contexts, hashes that follow only the app', () => {
  let root: string;
  let before: Record<ImageApp, StagedImage>;
  beforeAll(() => {
    // GIVEN a copy of the workspace, built
    root = copyWorkspace();
    buildAll(root);
    before = synthImages(root);
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stages only the Dockerfile and the host-built bundle as each context', () => {
    for (const app of APPS) {
      expect(before[app].context).toEqual([...buildContextFiles(app), '.dockerignore'].sort());
    }
    expect(new Set(Object.values(hashes(before))).size).toBe(3);
  });

  it('passes PREBUILT=1 so the Dockerfile copies the bundle instead of running npm ci (under qemu for arm64)', () => {
    for (const app of APPS) expect(before[app].buildArgs, app).toEqual({ PREBUILT: '1' });
  });

  it('keeps all three hashes when only the docs change (no service restarts)', () => {
    appendFileSync(join(root, 'docs', 'DEPLOY.md'), '\nA docs-only change.\n');
    buildAll(root);
    expect(hashes(synthImages(root))).toEqual(hashes(before));
  });

  it("changes only the edge client's hash when only the edge client changes", () => {
    appendFileSync(join(root, 'apps', 'edge-client', 'src', 'user-agent.ts'), '\nexport const CHANGED_FOR_THE_TEST = 1;\n');
    buildAll(root);
    const after = hashes(synthImages(root));
    expect(after['edge-client']).not.toBe(before['edge-client'].hash);
    expect(after['exit-server']).toBe(before['exit-server'].hash);
    expect(after['sample-app']).toBe(before['sample-app'].hash);
  });

  it('fails synthesis with the command to run when an app is not built', () => {
    rmSync(join(root, 'apps', 'sample-app', 'dist'), { recursive: true, force: true });
    expect(() => synthImages(root)).toThrow(/apps\/sample-app\/dist\/main.js not found .* run `npx nx run-many -t build`/);
  });
});
