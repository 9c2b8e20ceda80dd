import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { renderHelp } from '../help.ts';
import { loadConfig } from '../load.ts';
import { exitServerSchema } from './exit-server.ts';

const CLIENT = 'client-token-0123456789abcdefghijklmnop';
const ADMIN = 'admin-token-0123456789abcdefghijklmnopq';
const dir = mkdtempSync(join(tmpdir(), 'tunnel-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(argv: string[], env: Record<string, string>) {
  return loadConfig(exitServerSchema, { argv, env: { TUNNEL_TOKEN: CLIENT, ...env } });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('exit-server admin token', () => {
  it('reads TUNNEL_ADMIN_TOKEN by default, non-enumerable like the client token', () => {
    const c = load([], { TUNNEL_ADMIN_TOKEN: ` ${ADMIN}\n` });
    expect(c.adminToken).toBe(ADMIN);
    expect(Object.keys(c)).not.toContain('adminToken');
    expect(JSON.stringify(c)).not.toContain(ADMIN);
  });

  it('is undefined when no admin token is configured (admin endpoints then answer 403)', () => {
    expect(load([], {}).adminToken).toBeUndefined();
    expect(load([], { TUNNEL_ADMIN_TOKEN: '  ' }).adminToken).toBeUndefined();
  });

  it('reads --admin-token-env NAME and prefers --admin-token-file', () => {
    expect(load(['--admin-token-env', 'OPS_TOKEN'], { OPS_TOKEN: ADMIN }).adminToken).toBe(ADMIN);
    const path = join(dir, 'admin');
    writeFileSync(path, `${ADMIN}\n`);
    expect(load(['--admin-token-file', path], { TUNNEL_ADMIN_TOKEN: 'ignored-because-the-file-wins-000000' }).adminToken).toBe(ADMIN);
  });

  it('refuses an unreadable or empty --admin-token-file', () => {
    expect(configError(() => load(['--admin-token-file', join(dir, 'absent')], {})).message).toMatch(/cannot read \(ENOENT\)/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(configError(() => load(['--admin-token-file', empty], {})).code).toBe('TUN_ERR_CONFIG_TOKEN_MISSING');
  });

  it('refuses an admin token equal to the client token, without echoing it', () => {
    const err = configError(() => load([], { TUNNEL_ADMIN_TOKEN: CLIENT }));
    expect(err.code).toBe('TUN_ERR_CONFIG_CONFLICT');
    expect(err.option).toBe('--admin-token-env');
    expect(err.message).not.toContain(CLIENT);
  });

  it('is explained in --help', () => {
    const help = renderHelp(exitServerSchema).replace(/\s+/g, ' ');
    expect(help).toContain('--admin-token-env <NAME>');
    expect(help).toContain('a client token never opens them. Without an admin token they answer 403.');
  });
});
