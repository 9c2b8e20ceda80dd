import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { readStickySecret } from './sticky-secret.ts';

const noFile = (): string => {
  throw Object.assign(new Error('x'), { code: 'ENOENT' });
};

describe('readStickySecret', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).not.toContain('short');
      return (err as ConfigError).code;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads the env var or the file, trimmed; none configured means random', () => {
    expect(readStickySecret({}, { env: {}, readFile: noFile })).toBeUndefined();
    expect(readStickySecret({ stickySecretEnv: 'S' }, { env: { S: ' 0123456789abcdef \n' }, readFile: noFile })?.toString()).toBe(
      '0123456789abcdef',
    );
    expect(readStickySecret({ stickySecretFile: '/x' }, { env: {}, readFile: () => '0123456789abcdefXYZ\n' })?.toString()).toBe(
      '0123456789abcdefXYZ',
    );
  });

  it('refuses an unset variable, an unreadable file and a short secret without echoing it', () => {
    expect(code(() => readStickySecret({ stickySecretEnv: 'S' }, { env: {}, readFile: noFile }))).toBe('TUN_ERR_CONFIG_INVALID_VALUE');
    expect(code(() => readStickySecret({ stickySecretFile: '/nope' }, { env: {}, readFile: noFile }))).toBe('TUN_ERR_CONFIG_INVALID_VALUE');
    expect(code(() => readStickySecret({ stickySecretEnv: 'S' }, { env: { S: 'short' }, readFile: noFile }))).toBe(
      'TUN_ERR_CONFIG_INVALID_VALUE',
    );
  });
});
