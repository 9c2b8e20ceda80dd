#!/usr/bin/env node
// Thin launcher so the workspace can link the bin before the first build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('sample-app is not built yet: run `npm run build` at the repository root.\n');
  process.exit(1);
}
await import(main.href);
