// Snapshot of the built apps and of the bench's own child-process bundles for one run. Other work
// may rebuild apps/*/dist or tools/bench/dist while a benchmark runs (a build deletes dist
// first); running private copies of the self-contained esbuild bundles keeps every round on the
// same build and immune to that.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const APPS = ['exit-server', 'edge-client'] as const;
/** The bench's bundles that run as child processes (built next to main.js by `nx run bench:build`). */
const HELPERS = ['upstream', 'tcp-source', 'idle-clients'] as const;
const WAIT_MS = 60_000;

/** A program the bench runs. */
export type Program = (typeof APPS)[number] | (typeof HELPERS)[number];

/** Path of each program's private copy. */
export type Bins = Readonly<Record<Program, string>>;

/** The snapshot of one run. */
export interface Builds {
  /** The temp directory holding the copies. */
  readonly dir: string;
  /** Path of each program's copy. */
  readonly bins: Bins;
  /** SHA-256 (hex) of each app's bundle, for the report. */
  readonly sha256: Readonly<Record<(typeof APPS)[number], string>>;
  /** Removes the temp directory. */
  dispose(): void;
}

const distOf = (app: string): string => fileURLToPath(new URL(`apps/${app}/dist/main.js`, repoRoot()));
/** This bundle's directory: the helpers' bundles sit next to it. */
const helperOf = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/** The repository root (this file runs as tools/bench/dist/<entry>.js). */
export function repoRoot(): URL {
  return new URL('../../../', import.meta.url);
}

/**
 * Copies each app's dist/main.js (waiting up to a minute if a rebuild is in progress) and the
 * bench's helper bundles into a fresh temp directory.
 */
export async function snapshotBuilds(): Promise<Builds> {
  const deadline = Date.now() + WAIT_MS;
  let codes: Record<string, Buffer> | undefined;
  while (!(codes = readComplete())) {
    if (Date.now() > deadline) {
      const all = [...APPS.map(distOf), ...HELPERS.map(helperOf)].join(', ');
      throw new Error(`not built (or mid-rebuild): ${all}\nrun \`npm run build\` at the repository root first`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const dir = mkdtempSync(`${os.tmpdir()}/tunnel-bench-`);
  const bins = {} as Record<Program, string>;
  const sha256 = {} as Record<(typeof APPS)[number], string>;
  for (const app of APPS) {
    bins[app] = `${dir}/${app}.mjs`; // .mjs: ESM without a package.json next to it
    writeFileSync(bins[app], codes[app]);
    sha256[app] = createHash('sha256').update(codes[app]).digest('hex');
  }
  for (const name of HELPERS) {
    bins[name] = `${dir}/${name}.mjs`;
    writeFileSync(bins[name], codes[name]);
  }
  return { dir, bins, sha256, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every bundle, or undefined if one is missing or not completely written yet. */
function readComplete(): Record<string, Buffer> | undefined {
  const codes: Record<string, Buffer> = {};
  const paths: [string, string][] = [
    ...APPS.map((app): [string, string] => [app, distOf(app)]),
    ...HELPERS.map((h): [string, string] => [h, helperOf(h)]),
  ];
  for (const [name, path] of paths) {
    if (!existsSync(path)) return undefined;
    const code = readFileSync(path);
    // esbuild ends the bundle with its source-map comment: a cut-off file lacks it.
    if (!/\/\/# sourceMappingURL=\S+\s*$/.test(code.subarray(-200).toString('utf8'))) return undefined;
    codes[name] = code;
  }
  return codes;
}
