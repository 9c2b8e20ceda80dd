#!/usr/bin/env node
// Bundles one app (run from its directory) into a single dist/main.js with esbuild: workspace
// libs (TypeScript source) and npm dependencies alike, so a container needs no node_modules.
// Packages listed in package.json "bundleExternal" stay external (e.g. aws-cdk-lib for infra).
// A project with several programs (the bench: its orchestrator and the helpers it runs as child
// processes) lists them in package.json "bundleEntries": src/<name>.ts -> dist/<name>.js each.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = pkg.bundleExternal ?? [];
const entries = pkg.bundleEntries ?? ['main'];
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: entries.map((name) => ({ in: `src/${name}.ts`, out: name })),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external,
  // CommonJS dependencies call require() for builtins; give the ESM bundle a real one.
  banner: {
    js: "import { createRequire as __tunnelCreateRequire } from 'node:module'; const require = __tunnelCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
