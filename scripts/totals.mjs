#!/usr/bin/env node
// Prints the totals over every suite as one line, `N passed, N failed`, and exits non-zero if
// anything failed. Reads vitest JSON reports (reports/vitest/*.json) and extra checks recorded
// by the scripts as reports/checks/<name>.json ({ "passed": n, "failed": n }).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
for (const dir of ['reports/vitest', 'reports/checks']) {
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const r = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if ('numPassedTests' in r) {
      passed += r.numPassedTests;
      failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) + (r.success === false && r.numFailedTests === 0 ? 1 : 0);
    } else if (!('runnerExit' in r)) {
      passed += r.passed ?? 0;
      failed += r.failed ?? 0;
    }
  }
}
// The runner can fail outside any test (an unhandled error between tests, a suite that did not
// load): never let that read as all green.
const runner = join('reports/checks', 'test-runner.json');
if (failed === 0 && existsSync(runner) && JSON.parse(readFileSync(runner, 'utf8')).runnerExit) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
