// Snapshot of the built apps for one run. Other work may rebuild apps/*/dist while a benchmark
// runs (the build deletes dist first); running private copies of the self-contained esbuild
// bundles keeps every round on the same build and immune to that.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const APPS = ['exit-server', 'edge-client'];
const WAIT_MS = 60_000;

const distOf = (app) => fileURLToPath(new URL(`../../apps/${app}/dist/main.js`, import.meta.url));

/**
 * Copies each app's dist/main.js into a fresh temp directory (waiting up to a minute if a
 * rebuild is in progress). Resolves `{ bins: { app: path }, sha256: { app: hex }, dispose() }`.
 */
export async function snapshotBuilds() {
  const deadline = Date.now() + WAIT_MS;
  let codes;
  while (!(codes = readComplete())) {
    if (Date.now() > deadline) {
      throw new Error(`not built (or mid-rebuild): ${APPS.map(distOf).join(', ')}\nrun \`npm run build\` at the repository root first`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const dir = mkdtempSync(`${os.tmpdir()}/tunnel-bench-`);
  const bins = {};
  const sha256 = {};
  for (const app of APPS) {
    bins[app] = `${dir}/${app}.mjs`; // .mjs: ESM without a package.json next to it
    writeFileSync(bins[app], codes[app]);
    sha256[app] = createHash('sha256').update(codes[app]).digest('hex');
  }
  try {
    bins['idle-clients'] = await bundleIdleClients(dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, bins, sha256, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bundles idle-clients.mjs (which imports the protocol library's TypeScript source and `ws`)
 * into `dir` with esbuild, the way scripts/build-app.mjs bundles the apps. esbuild is a root
 * devDependency of the workspace.
 */
async function bundleIdleClients(dir) {
  const { build } = await import('esbuild');
  const outfile = `${dir}/idle-clients.mjs`;
  await build({
    entryPoints: [fileURLToPath(new URL('./idle-clients.mjs', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: {
      js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return outfile;
}

/** Every app's bundle, or undefined if one is missing or not completely written yet. */
function readComplete() {
  const codes = {};
  for (const app of APPS) {
    if (!existsSync(distOf(app))) return undefined;
    const code = readFileSync(distOf(app));
    // esbuild ends the bundle with its source-map comment: a cut-off file lacks it.
    if (!/\/\/# sourceMappingURL=\S+\s*$/.test(code.subarray(-200).toString('utf8'))) return undefined;
    codes[app] = code;
  }
  return codes;
}
