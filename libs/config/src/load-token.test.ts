import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadOptions } from './load.ts';
import { defineSchema } from './schema.ts';
import { TOKEN, baseEnv, load, tempFiles } from './testing/load-fixture.ts';
import { catchConfigError } from './testing/catch-config-error.ts';

const { dir, file } = tempFiles();

describe('token', () => {
  it('reads the token from TUNNEL_TOKEN by default, trimmed', () => {
    expect(load({ env: { TUNNEL_TOKEN: ` ${TOKEN}\n` } }).token).toBe(TOKEN);
  });

  it('reads the env var named by --token-env or TUNNEL_TOKEN_ENV', () => {
    expect(load({ argv: ['--token-env', 'MY_TOKEN'], env: { MY_TOKEN: 'a'.repeat(32) } }).token).toBe('a'.repeat(32));
    expect(load({ env: { TUNNEL_TOKEN_ENV: 'OTHER', OTHER: 'b'.repeat(32), TUNNEL_TOKEN: 'c'.repeat(32) } }).token).toBe('b'.repeat(32));
  });

  it('prefers --token-file over the env var', () => {
    const path = file('token', `${TOKEN}\n`);
    const c = load({ argv: ['--token-file', path], env: { TUNNEL_TOKEN: 'from-env' } });
    expect(c.token).toBe(TOKEN);
    expect(c.tokenFile).toBe(path);
  });

  it('reads one token per line: tokens holds all of them (rotation), token the first', () => {
    const other = 'another-token-for-rotation-0123456789';
    const path = file('tokens', `# rotation: new first\n${other}\n\n  ${TOKEN}  \n`);
    const c = load({ argv: ['--token-file', path] });
    expect(c.token).toBe(other);
    expect(c.tokens).toEqual([other, TOKEN]);
    expect(Object.keys(c)).not.toContain('tokens');
    expect(load({ env: { TUNNEL_TOKEN: `${TOKEN}\n${other}` } }).tokens).toEqual([TOKEN, other]);
  });

  it.each([
    ['env', { env: { TUNNEL_TOKEN: 'weak-xyzzy' } }, '--token-env', /env TUNNEL_TOKEN: token is shorter than 32 characters/],
    [
      'file',
      { argv: ['--token-file', file('weak', `${TOKEN}\nweak-xyzzy\n`)] },
      '--token-file',
      /token on line 2 is shorter than 32 characters/,
    ],
  ])('refuses a token shorter than 32 characters from %s unless --allow-weak-token', (_n, opts: Partial<LoadOptions>, option, message) => {
    const err = catchConfigError(() => load(opts));
    expect(err.code).toBe('TUN_ERR_CONFIG_WEAK_TOKEN');
    expect(err.option).toBe(option);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/--allow-weak-token/);
    expect(err.message).not.toContain('xyzzy');
    expect(load({ ...opts, argv: [...(opts.argv ?? []), '--allow-weak-token'] }).token).toBeDefined();
  });

  it('is readable but non-enumerable, so serialisation omits it', () => {
    const c = load({});
    expect(c.token).toBe(TOKEN);
    expect(Object.keys(c)).not.toContain('token');
    expect(JSON.stringify(c)).not.toContain(TOKEN);
    expect({ ...c }).not.toHaveProperty('token');
  });

  it.each([
    ['unset env', { argv: [], env: {} }, /env TUNNEL_TOKEN is not set/],
    ['empty env', { argv: [], env: { TUNNEL_TOKEN: '  ' } }, /env TUNNEL_TOKEN is empty/],
    ['other env unset', { argv: ['--token-env', 'MINE'], env: baseEnv }, /env MINE is not set/],
    ['empty file', { argv: ['--token-file', file('empty', '\n')], env: baseEnv }, /--token-file .*empty: file is empty/],
    ['missing file', { argv: ['--token-file', join(dir, 'nothing')], env: baseEnv }, /--token-file .*nothing: cannot read \(ENOENT\)/],
  ])('fails without a token (%s) and never leaks it', (_name, opts, message) => {
    const err = catchConfigError(() => load(opts));
    expect(err.code).toBe('TUN_ERR_CONFIG_TOKEN_MISSING');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(TOKEN);
  });

  it.each([[['--token', TOKEN]], [[`--token=${TOKEN}`]]])('refuses %j on the command line', (argv) => {
    const err = catchConfigError(() => load({ argv }));
    expect(err.code).toBe('TUN_ERR_CONFIG_TOKEN_ON_COMMAND_LINE');
    expect(err.message).toMatch(/--token-env.*--token-file/);
    expect(err.message).not.toContain(TOKEN);
  });

  it('rejects an invalid --token-env name', () => {
    const err = catchConfigError(() => load({ argv: ['--token-env', 'not a name'] }));
    expect(err.option).toBe('--token-env');
  });

  it('is absent from schemas without token support', () => {
    const s = defineSchema({ name: 'n', summary: 'n', options: {} });
    const c = loadConfig(s, { argv: [], env: baseEnv });
    expect('token' in c).toBe(false);
    expect(catchConfigError(() => loadConfig(s, { argv: ['--token-env', 'X'], env: {} })).code).toBe('TUN_ERR_CONFIG_UNKNOWN_FLAG');
  });
});
