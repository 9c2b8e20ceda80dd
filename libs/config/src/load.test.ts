import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HelpRequested } from './errors.ts';
import { loadConfig, type LoadOptions } from './load.ts';
import { defineSchema } from './schema.ts';
import { TOKEN, baseEnv, load, tempFiles } from './testing/load-fixture.ts';
import { catchConfigError } from './testing/catch-config-error.ts';

const { dir, file } = tempFiles();

describe('loadConfig defaults', () => {
  it('fills defaults and implicit values', () => {
    const c = load({});
    expect({ ...c }).toEqual({
      port: 8000,
      timeout: 30_000,
      window: 1024,
      verbose: false,
      mode: 'fast',
      name: undefined,
      ports: [1],
      password: undefined,
      config: undefined,
      logLevel: 'info',
      tokenEnv: 'TUNNEL_TOKEN',
      tokenFile: undefined,
      allowWeakToken: false,
    });
  });
});

describe('precedence: flags > env > file > defaults', () => {
  const json = file('c.json', JSON.stringify({ port: 1001, timeout: '2m', mode: 'slow', name: 'file', ports: [5, 6] }));
  const yaml = file('c.yaml', 'port: 1001\ntimeout: 2m\nmode: slow\nname: file\nports:\n  - 5\n  - 6\n');

  for (const path of [json, yaml]) {
    it(`layers ${path.endsWith('json') ? 'JSON' : 'YAML'} file, env and flags`, () => {
      const c = load({
        argv: ['--config', path, '--port', '1003'],
        env: { ...baseEnv, TUNNEL_PORT: '1002', TUNNEL_MODE: 'fast', TUNNEL_PORTS: '7, 8' },
      });
      expect(c.port).toBe(1003); // flag beats env and file
      expect(c.mode).toBe('fast'); // env beats file
      expect(c.timeout).toBe(120_000); // file beats default
      expect(c.name).toBe('file');
      expect(c.window).toBe(1024); // default
      expect(c.ports).toEqual([7, 8]); // env list replaces file list
      expect(c.config).toBe(path);
    });
  }

  it('reads the config path from TUNNEL_CONFIG', () => {
    expect(load({ env: { ...baseEnv, TUNNEL_CONFIG: json } }).port).toBe(1001);
  });

  it('lists from a higher source replace rather than append', () => {
    const c = load({ argv: ['--config', json, '--ports', '9', '--ports', '10'], env: { ...baseEnv, TUNNEL_PORTS: '7' } });
    expect(c.ports).toEqual([9, 10]);
    expect(load({ argv: ['--config', json] }).ports).toEqual([5, 6]);
  });

  it('treats empty env vars and YAML nulls as unset', () => {
    const path = file('null.yaml', 'name:\nport: 1001\n');
    const c = load({ argv: ['--config', path], env: { ...baseEnv, TUNNEL_PORT: '' } });
    expect(c.port).toBe(1001);
    expect(c.name).toBeUndefined();
  });

  it('accepts --flag=value, booleans and --no-flag', () => {
    expect(load({ argv: ['--port=81', '--verbose'] })).toMatchObject({ port: 81, verbose: true });
    expect(load({ argv: ['--no-verbose'], env: { ...baseEnv, TUNNEL_VERBOSE: 'yes' } }).verbose).toBe(false);
    expect(load({ argv: ['--verbose=false'] }).verbose).toBe(false);
    expect(load({ env: { ...baseEnv, TUNNEL_VERBOSE: 'on' } }).verbose).toBe(true);
  });

  it('ignores unknown TUNNEL_* env vars', () => {
    expect(load({ env: { ...baseEnv, TUNNEL_WHATEVER: 'x', TUNNEL_PROT: '1' } }).port).toBe(8000);
  });
});

describe('errors', () => {
  const json = file('bad.json', JSON.stringify({ port: 'abc' }));
  const table: { name: string; opts: Partial<LoadOptions>; code: string; option: string | undefined; message: RegExp }[] = [
    {
      name: 'unknown flag',
      opts: { argv: ['--prot', '1'] },
      code: 'TUN_ERR_CONFIG_UNKNOWN_FLAG',
      option: '--prot',
      message: /^--prot: unknown option \(did you mean --port\?\)/,
    },
    {
      name: 'unknown flag with inline value',
      opts: { argv: ['--nope=hunter2'] },
      code: 'TUN_ERR_CONFIG_UNKNOWN_FLAG',
      option: '--nope',
      message: /^--nope: unknown option/,
    },
    {
      name: '--no- on a non-boolean',
      opts: { argv: ['--no-port'] },
      code: 'TUN_ERR_CONFIG_UNKNOWN_FLAG',
      option: '--no-port',
      message: /--no-port/,
    },
    {
      name: 'bad port flag',
      opts: { argv: ['--port', 'abc'] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--port',
      message: /^--port: expected an integer port 1-65535, got "abc"$/,
    },
    {
      name: 'bad port env',
      opts: { env: { ...baseEnv, TUNNEL_PORT: '70000' } },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--port',
      message: /^--port \(from env TUNNEL_PORT\): expected an integer port 1-65535, got "70000"$/,
    },
    {
      name: 'bad port file',
      opts: { argv: ['--config', json] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--port',
      message: /^--port \(from "port" in .*bad\.json\): expected an integer port/,
    },
    {
      name: 'bad list item',
      opts: { argv: ['--ports', '1', '--ports', 'x'] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--ports',
      message: /^--ports: expected an integer port 1-65535, got "x"$/,
    },
    {
      name: 'bad enum',
      opts: { argv: ['--mode', 'medium'] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--mode',
      message: /expected one of fast, slow, got "medium"/,
    },
    {
      name: 'bad log level',
      opts: { argv: ['--log-level', 'loud'] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--log-level',
      message: /expected one of trace, debug, info, warn, error, fatal, silent/,
    },
    {
      name: 'missing value',
      opts: { argv: ['--port'] },
      code: 'TUN_ERR_CONFIG_MISSING_VALUE',
      option: '--port',
      message: /^--port: missing value$/,
    },
    {
      name: 'value looks like flag',
      opts: { argv: ['--name', '--port', '1'] },
      code: 'TUN_ERR_CONFIG_MISSING_VALUE',
      option: '--name',
      message: /missing value/,
    },
    {
      name: 'duplicate scalar flag',
      opts: { argv: ['--port', '1', '--port', '2'] },
      code: 'TUN_ERR_CONFIG_DUPLICATE_FLAG',
      option: '--port',
      message: /more than once/,
    },
    {
      name: 'positional',
      opts: { argv: ['serve'] },
      code: 'TUN_ERR_CONFIG_UNEXPECTED_ARGUMENT',
      option: undefined,
      message: /unexpected argument "serve"/,
    },
    {
      name: 'unknown file key',
      opts: { argv: ['--config', file('k.yaml', 'prot: 1\n')] },
      code: 'TUN_ERR_CONFIG_UNKNOWN_KEY',
      option: '--config',
      message: /k\.yaml: unknown key "prot" \(did you mean port\?\)/,
    },
    {
      name: 'config key in file',
      opts: { argv: ['--config', file('cc.yaml', 'config: x\n')] },
      code: 'TUN_ERR_CONFIG_UNKNOWN_KEY',
      option: '--config',
      message: /unknown key "config"/,
    },
    {
      name: 'token key in file',
      opts: { argv: ['--config', file('t.yaml', `token: ${TOKEN}\n`)] },
      code: 'TUN_ERR_CONFIG_UNKNOWN_KEY',
      option: '--config',
      message: /use tokenFile/,
    },
    {
      name: 'scalar list in file',
      opts: { argv: ['--config', file('l.yaml', 'ports: 5\n')] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--ports',
      message: /expected a list/,
    },
    {
      name: 'list for scalar in file',
      opts: { argv: ['--config', file('s.yaml', 'port: [1]\n')] },
      code: 'TUN_ERR_CONFIG_INVALID_VALUE',
      option: '--port',
      message: /expected a single value, got a list/,
    },
    {
      name: 'missing config file',
      opts: { argv: ['--config', join(dir, 'nope.yaml')] },
      code: 'TUN_ERR_CONFIG_FILE',
      option: '--config',
      message: /ENOENT/,
    },
    {
      name: 'unparseable JSON',
      opts: { argv: ['--config', file('x.json', '{')] },
      code: 'TUN_ERR_CONFIG_FILE',
      option: '--config',
      message: /x\.json/,
    },
    {
      name: 'non-mapping file',
      opts: { argv: ['--config', file('arr.yaml', '- 1\n')] },
      code: 'TUN_ERR_CONFIG_FILE',
      option: '--config',
      message: /expected a mapping/,
    },
  ];

  it.each(table)('$name', ({ opts, code, option, message }) => {
    const err = catchConfigError(() => load(opts));
    expect(err.code).toBe(code);
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('hunter2');
  });

  it('never echoes secret option values', () => {
    const s = defineSchema({
      name: 's',
      summary: 's',
      options: { pin: { kind: 'int', secret: true, description: 'pin' } },
    });
    const err = catchConfigError(() => loadConfig(s, { argv: ['--pin', 'hunter2'], env: {} }));
    expect(err.message).toBe('--pin: expected an integer');
  });

  it('reports missing required options with flag and env var', () => {
    const s = defineSchema({
      name: 's',
      summary: 's',
      options: { url: { kind: 'url', protocols: ['ws:'], required: true, description: 'u' } },
    });
    const err = catchConfigError(() => loadConfig(s, { argv: [], env: {} }));
    expect(err.code).toBe('TUN_ERR_CONFIG_REQUIRED');
    expect(err.message).toMatch(/--url is required.*TUNNEL_URL/);
  });

  it('throws HelpRequested for --help and -h, even with other errors present', () => {
    expect(() => load({ argv: ['--bogus', '--help'] })).toThrow(HelpRequested);
    expect(() => load({ argv: ['-h'] })).toThrow(HelpRequested);
  });
});

describe('result object', () => {
  it('is deeply frozen', () => {
    'use strict';
    const c = load({ argv: ['--ports', '5'] });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.ports)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => (c.ports as number[]).push(1)).toThrow(TypeError);
  });
});

describe('defineSchema', () => {
  it('rejects reserved keys and invalid defaults', () => {
    expect(() => defineSchema({ name: 'x', summary: 'x', options: { token: { kind: 'string', description: 't' } } })).toThrow(/reserved/);
    expect(() => defineSchema({ name: 'x', summary: 'x', options: { p: { kind: 'port', default: 0, description: 'p' } } })).toThrow(
      /default of p: expected an integer port 1-65535, got 0/,
    );
  });
});
