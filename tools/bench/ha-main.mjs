// `node tools/bench/ha-main.mjs [--duration S]`: only the scale-out section of the benchmark
// (ha.mjs), printed as markdown; `npm run bench` runs it too, after the other sections.
import { parseArgs } from 'node:util';
import { snapshotBuilds } from './builds.mjs';
import { killAllNow, stopAll } from './children.mjs';
import { runHa } from './ha.mjs';
import { renderHa } from './ha-report.mjs';
import { haproxyMissing } from './haproxy.mjs';
import { SETUP_HINT } from './peers.mjs';
import { createProgress } from './progress.mjs';
import { newToken } from './systems.mjs';

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
