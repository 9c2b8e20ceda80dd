import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { loadConfig, type LoadOptions } from '../load.ts';
import { defineSchema } from '../schema.ts';

/** The schema the loadConfig tests load: one option of each kind, a secret, and a token. */
export const schema = defineSchema({
  name: 'demo',
  summary: 'test schema',
  token: true,
  options: {
    port: { kind: 'port', default: 8000, description: 'port' },
    timeout: { kind: 'duration', default: 30_000, description: 'timeout' },
    window: { kind: 'bytes', default: 1024, description: 'window' },
    verbose: { kind: 'boolean', description: 'verbose' },
    mode: { kind: 'enum', choices: ['fast', 'slow'], default: 'fast', description: 'mode' },
    name: { kind: 'string', description: 'name' },
    ports: { kind: 'list', of: { kind: 'port' }, default: [1], description: 'ports' },
    password: { kind: 'string', secret: true, description: 'secret thing' },
  },
});

/** A token long enough to pass the weak-token check. */
export const TOKEN = 's3cr3t-token-value-0123456789abcdef';
/** An environment that holds only {@link TOKEN}. */
export const baseEnv = { TUNNEL_TOKEN: TOKEN };
/** Loads {@link schema}: no arguments and {@link baseEnv} unless `opts` says otherwise. */
export const load = (opts: Partial<LoadOptions>) => loadConfig(schema, { argv: [], env: baseEnv, ...opts });

/**
 * A temporary directory removed after the calling test file: `file` writes a file in it and returns
 * its path. Call at module level (it registers an afterAll hook).
 */
export function tempFiles(): { readonly dir: string; file(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunnel-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
