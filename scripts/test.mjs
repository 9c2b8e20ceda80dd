#!/usr/bin/env node
// The one test command: format check, lint, typecheck, build and every test suite (unit and loopback e2e) of
// every project through Nx, then the totals. Each Nx target that fails without a test report
// (lint, typecheck, build) counts as one failed check.
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
const t = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--outputStyle=static', '--parallel=1'], { stdio: 'inherit', env });
if (t.status !== 0) writeFileSync('reports/checks/test-runner.json', JSON.stringify({ passed: 0, failed: 0, runnerExit: t.status }));
const totals = spawnSync(process.execPath, ['scripts/totals.mjs'], { stdio: 'inherit' });
process.exit(t.status !== 0 ? t.status || 1 : (totals.status ?? 1));
