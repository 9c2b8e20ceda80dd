#!/usr/bin/env node
// Runs the unit and loopback e2e suites a second time, on the pinned Node 24 (scripts/node:
// the official binary from the npm package, integrity checked, kept in a cache; nothing is
// installed globally), after `npm test` ran them on the host's node. Used by .ci/run.
//
// Both runs count in the totals (scripts/totals.mjs): this run's vitest reports go to
// reports/vitest-node24/, the host run's stay in reports/vitest/. The container suite is not run
// again: it runs the images, whose Node 24 does not depend on the host's node. Lint, typecheck
// and build are the host run's (the same TypeScript and esbuild either way).
//
// Usage: node scripts/ci/test-node24.mjs     (after npm test; needs the apps built)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const HOST_REPORTS = 'reports/vitest';
const RUN_REPORTS = 'reports/vitest-node24';
const ASIDE = 'reports/vitest-host-aside';
/** The unit and loopback e2e targets; not `e2e-containers`, whose suite runs the images' own Node 24. */
const SUITES = ['test', 'e2e'];
/** Bound on the whole run, seconds (the host's run of the same suites takes a few minutes). */
const TIMEOUT_S = Number(process.env.TUNNEL_NODE24_TIMEOUT_S ?? 1800);

function record(result) {
  mkdirSync('reports/checks', { recursive: true });
  writeFileSync('reports/checks/test-node24.json', JSON.stringify(result));
}

const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
const fetched = spawnSync('bash', ['scripts/node/fetch-node.sh', arch], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const node = fetched.stdout.trim();
if (fetched.status !== 0 || !node) {
  console.error(`[test-node24] could not get the pinned Node 24 (scripts/node/fetch-node.sh ${arch} exited ${fetched.status})`);
  record({ passed: 0, failed: 1 });
  process.exit(1);
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
if (!/^v24\./.test(version)) {
  console.error(`[test-node24] ${node} says ${version || 'nothing'}, not v24.x`);
  record({ passed: 0, failed: 1 });
  process.exit(1);
}
console.log(`[test-node24] unit and loopback e2e suites on Node ${version} (${node}); the host's run was on ${process.version}`);

// The host run's reports step aside while this run writes the same paths, then come back.
rmSync(RUN_REPORTS, { recursive: true, force: true });
rmSync(ASIDE, { recursive: true, force: true });
if (existsSync(HOST_REPORTS)) renameSync(HOST_REPORTS, ASIDE);
const env = {
  ...process.env,
  // Every `node` a test or tool spawns by name is this one; nx and vitest fork process.execPath.
  PATH: `${dirname(node)}:${process.env.PATH}`,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_SKIP_NX_CACHE: 'true',
  // Checked by a test (libs/tunnel-io/src/socket-internals.test.ts): the suites really ran on it.
  TUNNEL_TEST_NODE_VERSION: version,
};
const t0 = Date.now();
const run = spawnSync(node, ['node_modules/.bin/nx', 'run-many', '-t', ...SUITES, '--outputStyle=static', '--parallel=1'], {
  stdio: 'inherit',
  env,
  timeout: TIMEOUT_S * 1000,
  killSignal: 'SIGTERM',
});
if (existsSync(HOST_REPORTS)) renameSync(HOST_REPORTS, RUN_REPORTS);
if (existsSync(ASIDE)) renameSync(ASIDE, HOST_REPORTS);
const outcome = run.error ? `stopped: ${run.error.message} (limit ${TIMEOUT_S} s)` : `nx exited ${run.status}`;
console.log(`[test-node24] done in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${outcome}`);
// A run that fails outside any test (no report, a suite that did not load) must not read as green.
record(run.status === 0 ? { passed: 0, failed: 0 } : { passed: 0, failed: 0, runnerExit: run.status ?? 1 });
process.exit(run.status === 0 ? 0 : 1);
