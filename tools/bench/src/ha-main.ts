// `node tools/bench/dist/ha-main.js [--duration S]` (after `npx nx run bench:build`): only the
// scale-out section of the benchmark (ha.ts), printed as markdown; `npm run bench` runs it too,
// after the other sections.
import { parseArgs } from 'node:util';
import { newToken } from '@tunnel/testing';
import { snapshotBuilds } from './builds.ts';
import { killAllNow, stopAll } from './children.ts';
import { runHa } from './ha.ts';
import { renderHa } from './ha-report.ts';
import { haproxyMissing } from './haproxy.ts';
import { SETUP_HINT } from './peers.ts';
import { createProgress } from './progress.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' } } });
const missing = haproxyMissing();
if (missing) {
  process.stderr.write(`bench ha: ${missing}; install with: ${SETUP_HINT}\n`);
  process.exit(1);
}
process.on('exit', killAllNow);
const progress = createProgress();
progress.setTotal(3);
const builds = await snapshotBuilds();
try {
  const ha = await runHa({ bins: builds.bins, token: newToken(), durationSec: Number(values.duration), progress });
  progress.done();
  process.stdout.write(`${renderHa(ha).join('\n')}\n`);
  process.exitCode = ha.errors.length > 0 ? 1 : 0;
} finally {
  await stopAll();
  builds.dispose();
}
