import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderHelp, renderMarkdown } from './help.ts';
import { loadConfigOrExit } from './load-or-exit.ts';
import { ALL_SCHEMAS, renderCliReference } from './reference.ts';
import { edgeClientSchema } from './apps/edge-client.ts';
import { exitServerSchema } from './apps/exit-server.ts';
import { sampleAppSchema } from './apps/sample-app.ts';
import { envName, flagName } from './schema.ts';

describe.each(ALL_SCHEMAS.map((s) => [s.name, s] as const))('%s help', (_name, schema) => {
  const help = renderHelp(schema);
  const markdown = renderMarkdown(schema);

  it('starts with the usage line and summary', () => {
    expect(help.startsWith(`Usage: ${schema.usage}\n\n`)).toBe(true);
    expect(help.replace(/\s+/g, ' ')).toContain(schema.summary);
    expect(help).toContain('-h, --help');
  });

  it.each(Object.keys(schema.options))('lists --%s with its env var in help and markdown', (key) => {
    const flag = flagName(key).slice(2);
    for (const text of [help, markdown]) {
      expect(text).toMatch(new RegExp(`--(\\[no-\\])?${flag}\\b`));
      expect(text).toContain(envName(key));
    }
  });

  it('keeps lines within 80 columns except unbreakable flags', () => {
    for (const line of help.split('\n')) {
      if (line.length > 80) expect(line.trim()).toMatch(/^--\S+ <[^>]+>$/);
    }
  });
});

describe('help details', () => {
  const help = renderHelp(edgeClientSchema);
  it('shows defaults in human units and marks required options', () => {
    expect(help).toMatch(/--reconnect-min <duration>[\s\S]*default: 500ms {2}env: TUNNEL_RECONNECT_MIN/);
    expect(renderHelp(exitServerSchema)).toMatch(/--stream-window <size>[\s\S]*16KiB-16MiB[\s\S]*default: 1MiB/);
    expect(help.replace(/\s+/g, ' ')).toContain('--url <url> control URL of the exit server (required; ws:// or wss://)');
    expect(help).toContain('--token-file');
  });
});

describe('docs/CLI.md', () => {
  it('matches renderCliReference() (UPDATE_CLI_DOCS=1 rewrites it)', () => {
    const path = fileURLToPath(new URL('../../../docs/CLI.md', import.meta.url));
    const expected = renderCliReference();
    if (process.env.UPDATE_CLI_DOCS === '1') writeFileSync(path, expected);
    expect(readFileSync(path, 'utf8')).toBe(expected);
  });
});

describe('loadConfigOrExit', () => {
  class Exit extends Error {
    constructor(readonly code: number) {
      super(`exit ${code}`);
    }
  }
  function run(argv: string[], env: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      exit: (code: number): never => {
        throw new Exit(code);
      },
    };
    try {
      const config = loadConfigOrExit(sampleAppSchema, argv, env, io);
      return { config, code: undefined, stdout, stderr };
    } catch (err) {
      if (!(err instanceof Exit)) throw err;
      return { config: undefined, code: err.code, stdout, stderr };
    }
  }

  it('returns the config', () => {
    expect(run(['--port', '1']).config?.port).toBe(1);
  });

  it('prints help to stdout and exits 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderHelp(sampleAppSchema));
    expect(r.stderr).toBe('');
  });

  it('prints the error and a pointer to --help to stderr and exits 2', () => {
    const r = run(['--port', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'sample-app: --port: expected an integer port 0-65535 (0 = any free port), got "abc"\n' + "Run 'sample-app --help' for usage.\n",
    );
  });
});
