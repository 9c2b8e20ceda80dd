#!/usr/bin/env node
// Bundles one app (run from its directory) into dist/main.js with esbuild.
// Workspace libs are bundled in (they ship as TypeScript source); npm packages stay external,
// so the image's final stage installs only production dependencies.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@tunnel/'));
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
  logLevel: 'warning',
});
