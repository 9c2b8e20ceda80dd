#!/usr/bin/env node
// The one test command: format check, lint, typecheck, build and every test suite of every project through
// Nx (the unit suites are the `test` targets, the loopback e2e suite `e2e`, the container suite
// `e2e-containers`), then the totals. Each Nx target that fails without a test report (lint, typecheck,
// build) counts as one failed check. NX_SKIP_NX_CACHE: the one command always runs every suite for real,
// though the targets are cacheable for `nx affected`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true' };
rmSync('reports', { recursive: true, force: true });
mkdirSync('reports/checks', { recursive: true });

// Formatting first: Prettier's check is cheap and names every file it would change.
const format = spawnSync('npx', ['prettier', '--check', '.'], { stdio: 'inherit', env });
writeFileSync('reports/checks/format.json', JSON.stringify(format.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }));

const checks = ['lint', 'typecheck', 'build'];
for (const target of checks) {
  const r = spawnSync('npx', ['nx', 'run-many', '-t', target, '--outputStyle=static'], { stdio: 'inherit', env });
  writeFileSync(`reports/checks/${target}.json`, JSON.stringify(r.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }));
}
/** The Nx targets that run test suites, each writing reports/vitest/<project>.json (vitest.shared.ts). */
const SUITES = ['test', 'e2e', 'e2e-containers'];
const t = spawnSync('npx', ['nx', 'run-many', '-t', ...SUITES, '--outputStyle=static', '--parallel=1'], { stdio: 'inherit', env });
if (t.status !== 0) writeFileSync('reports/checks/test-runner.json', JSON.stringify({ passed: 0, failed: 0, runnerExit: t.status }));
const totals = spawnSync(process.execPath, ['scripts/totals.mjs'], { stdio: 'inherit' });
process.exit(t.status !== 0 ? t.status || 1 : (totals.status ?? 1));
