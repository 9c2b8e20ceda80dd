#!/usr/bin/env node
// Bundles one app (run from its directory) into a single dist/main.js with esbuild: workspace
// libs (TypeScript source) and npm dependencies alike, so a container needs no node_modules.
// Packages listed in package.json "bundleExternal" stay external (e.g. aws-cdk-lib for infra).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = pkg.bundleExternal ?? [];
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
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
