#!/usr/bin/env node
// Prints the totals over every suite as one line, `N passed, N failed`, and exits non-zero if
// anything failed. Reads vitest JSON reports (reports/vitest/*.json: the host node's run;
// reports/vitest-node24/*.json: the same suites on Node 24, scripts/ci/test-node24.mjs) and extra
// checks recorded by the scripts as reports/checks/<name>.json ({ "passed": n, "failed": n }).
// The line counts every run; a line per run comes before it, and before those the name and first
// message line of every failed test, so the last lines of a CI log say what failed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const runs = [
  { dir: 'reports/vitest', name: `suites on the host's node (${process.version})` },
  { dir: 'reports/vitest-node24', name: 'unit and loopback e2e suites on Node 24' },
  { dir: 'reports/checks', name: 'checks (lint, typecheck, build, bench --quick)' },
];
let passed = 0;
let failed = 0;
let runnerFailed = false;
const lines = [];
/** "<run>: <file> > <test>: <first line of the failure>", one per failed test, every run. */
const failures = [];
for (const run of runs) {
  if (!existsSync(run.dir)) continue;
  let p = 0;
  let f = 0;
  for (const file of readdirSync(run.dir).filter((name) => name.endsWith('.json'))) {
    const r = JSON.parse(readFileSync(join(run.dir, file), 'utf8'));
    if ('numPassedTests' in r) {
      p += r.numPassedTests;
      f += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) + (r.success === false && r.numFailedTests === 0 ? 1 : 0);
      failures.push(...failedTests(r, `${run.dir}/${file}`));
    } else if ('runnerExit' in r) {
      // A runner can fail outside any test (an unhandled error between tests, a suite that did
      // not load): never let that read as all green.
      if (r.runnerExit) runnerFailed = true;
    } else {
      p += r.passed ?? 0;
      f += r.failed ?? 0;
      if (r.failed) failures.push(`${run.dir}/${file}: failed`);
    }
  }
  passed += p;
  failed += f;
  lines.push(`  ${run.name}: ${p} passed, ${f} failed`);
}
if (failed === 0 && runnerFailed) failed = 1;
if (failures.length > 0) {
  console.log(`failed (${failures.length}):`);
  for (const line of failures.slice(0, 30)) console.log(`  ${line}`);
}
if (lines.length > 1) console.log(lines.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

/** The failed tests of one vitest JSON report, and suites that failed outside any test. */
function failedTests(report, label) {
  const out = [];
  for (const suite of report.testResults ?? []) {
    const file = suite.name.replace(`${process.cwd()}/`, '');
    const failedHere = (suite.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failedHere) out.push(`${label}: ${file} > ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    if (failedHere.length === 0 && suite.status === 'failed') out.push(`${label}: ${file}: ${firstLine(suite.message)}`);
  }
  return out;
}

function firstLine(text) {
  return (text ?? '').split('\n')[0].slice(0, 300);
}
