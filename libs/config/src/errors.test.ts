import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CodedError, registryDocProblems } from '@tunnel/errors';
import { describe, expect, it } from 'vitest';
import { CONFIG_ERROR_CODES, ConfigError, type ConfigErrorCode } from './errors.ts';
import * as api from './index.ts';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/ERRORS.md', import.meta.url)), 'utf8');

describe('config error registry', () => {
  const codes = Object.keys(CONFIG_ERROR_CODES) as ConfigErrorCode[];

  it('is exported from the package entry', () => {
    expect(api.CONFIG_ERROR_CODES).toBe(CONFIG_ERROR_CODES);
  });

  it('names every code TUN_ERR_CONFIG_*', () => {
    expect(codes.filter((code) => !/^TUN_ERR_CONFIG_[A-Z_]+$/.test(code))).toEqual([]);
  });

  it('agrees with docs/ERRORS.md (Configuration errors) both ways: every code has a row with its meaning, every row a code', () => {
    const cell = (text: string) => `| ${text} |`;
    expect(registryDocProblems(DOC, { registry: CONFIG_ERROR_CODES, section: 'Configuration errors', rowText: cell })).toEqual([]);
  });

  it('a ConfigError carries its code, flag and exit status 2', () => {
    const err = new ConfigError('TUN_ERR_CONFIG_REQUIRED', '--url', '--url is required');
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toBeInstanceOf(Error);
    expect([err.code, err.option, err.exitCode, err.name]).toEqual(['TUN_ERR_CONFIG_REQUIRED', '--url', 2, 'ConfigError']);
  });
});
