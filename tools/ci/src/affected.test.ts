import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affectedProjects, deployPlan } from './deploy-plan.mjs';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const E2E = ['e2e', 'e2e-containers'];
const APP_STACKS = ['TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp'];
const ALL_STACKS = ['TunnelNetwork', ...APP_STACKS];
/** Every project: the shared vitest preset is an input of each suite, and the bench measures the apps. */
const ALL = [
  'errors',
  'tunnel-protocol',
  'tunnel-io',
  'testing',
  'config',
  'observability',
  'exit-server',
  'edge-client',
  'sample-app',
  'infra',
  'bench',
  'ci',
  ...E2E,
];

/**
 * For a change under each path (a new file in a directory, a line added to a file), the projects
 * the pipeline's `nx affected` runs, and the stacks it deploys on main. Files outside any project
 * count through the target inputs that name them (nx.json, each project's testWorkspaceFiles). A new
 * project, dependency or input changes these on purpose: update the table.
 */
const CASES: ReadonlyArray<{ path: string; affected: readonly string[]; deploys: string[] }> = [
  {
    path: 'libs/errors',
    affected: ['errors', 'tunnel-protocol', 'tunnel-io', 'config', 'exit-server', 'edge-client', 'sample-app', 'infra', 'bench', ...E2E],
    deploys: ALL_STACKS,
  },
  {
    path: 'libs/config',
    affected: ['config', 'exit-server', 'edge-client', 'sample-app', 'infra', 'bench', ...E2E],
    deploys: ['TunnelNetwork', 'TunnelExitServer', 'TunnelEdge', 'TunnelSampleApp'],
  },
  {
    path: 'libs/tunnel-protocol',
    affected: ['tunnel-protocol', 'tunnel-io', 'exit-server', 'edge-client', 'bench', ...E2E],
    deploys: ['TunnelExitServer', 'TunnelEdge'],
  },
  {
    path: 'libs/tunnel-io',
    affected: ['tunnel-io', 'exit-server', 'edge-client', 'bench', ...E2E],
    deploys: ['TunnelExitServer', 'TunnelEdge'],
  },
  {
    path: 'libs/observability',
    affected: ['observability', 'exit-server', 'edge-client', 'bench', ...E2E],
    deploys: ['TunnelExitServer', 'TunnelEdge'],
  },
  // The bench measures the built apps (implicitDependencies: its build builds them first).
  { path: 'apps/exit-server', affected: ['exit-server', 'bench', ...E2E], deploys: ['TunnelExitServer'] },
  { path: 'apps/edge-client', affected: ['edge-client', 'bench', ...E2E], deploys: ['TunnelEdge'] },
  { path: 'apps/sample-app', affected: ['sample-app', ...E2E], deploys: ['TunnelSampleApp'] },
  { path: 'apps/infra', affected: ['infra'], deploys: ALL_STACKS },
  { path: 'docs', affected: [], deploys: [] },
  // The error registries' tests (protocol and config) check the codes against this doc, and the
  // errors lib's that each of its sections names a registry; the stacks redeploy unchanged bundles (a no-op).
  {
    path: 'docs/ERRORS.md',
    affected: ['errors', 'tunnel-protocol', 'tunnel-io', 'config', 'exit-server', 'edge-client', 'sample-app', 'infra', 'bench', ...E2E],
    deploys: ALL_STACKS,
  },
  { path: '.github/workflows', affected: ['ci'], deploys: [] },
  // The build script is an input of every bundle.
  { path: 'scripts/build-app.mjs', affected: ['exit-server', 'edge-client', 'sample-app', 'infra', 'bench', ...E2E], deploys: ALL_STACKS },
  { path: 'scripts/docker', affected: ['e2e-containers'], deploys: [] },
  { path: 'vitest.shared.ts', affected: ALL, deploys: ALL_STACKS },
];

/**
 * node_modules for the clone: links to the installed packages, except npm's workspace links
 * (`@tunnel/*`, relative), made anew so they point into the clone; else imports of a workspace
 * package would resolve into the real repository and nx would miss those dependencies.
 */
function linkNodeModules(from: string, to: string): void {
  const modules = join(from, 'node_modules');
  mkdirSync(join(to, 'node_modules', '@tunnel'), { recursive: true });
  for (const name of readdirSync(modules)) {
    if (name !== '@tunnel') symlinkSync(join(modules, name), join(to, 'node_modules', name));
  }
  for (const name of readdirSync(join(modules, '@tunnel'))) {
    symlinkSync(readlinkSync(join(modules, '@tunnel', name)), join(to, 'node_modules', '@tunnel', name));
  }
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=affected-test', '-c', 'user.email=affected-test@localhost', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

describe('nx affected picks the right projects and stacks for a change in each lib and app', () => {
  let clone: string;
  beforeAll(() => {
    // GIVEN a throw-away clone of this commit (the real repository is never written to), with
    // the installed node_modules linked in
    clone = mkdtempSync(join(tmpdir(), 'affected-'));
    git(REPO_ROOT, 'clone', '--quiet', '--shared', '--no-checkout', REPO_ROOT, clone);
    git(clone, 'checkout', '--quiet', '--detach', git(REPO_ROOT, 'rev-parse', 'HEAD'));
    linkNodeModules(REPO_ROOT, clone);
  });
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  it.each(CASES)('a change under $path', ({ path, affected, deploys }) => {
    // WHEN one commit adds a file there (or a line to it)
    const base = git(clone, 'rev-parse', 'HEAD');
    const target = join(clone, path);
    if (statSync(target).isDirectory()) writeFileSync(join(target, 'affected-probe.md'), `probe for ${path}\n`);
    else appendFileSync(target, `\n// probe for ${path}\n`);
    git(clone, 'add', '-A');
    git(clone, 'commit', '--quiet', '-m', `probe ${path}`);
    // THEN nx affected between the two commits is exactly the expected set
    const projects = affectedProjects(base, git(clone, 'rev-parse', 'HEAD'), clone);
    expect([...projects].sort()).toEqual([...affected].sort());
    // AND main would deploy exactly these stacks
    const plan = deployPlan(projects);
    expect([...(plan.network ? ['TunnelNetwork'] : []), ...plan.apps]).toEqual(deploys);
  });
});
