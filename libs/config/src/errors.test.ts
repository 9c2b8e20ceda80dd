import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_ERROR_CODES, ConfigError, type ConfigErrorCode } from './errors.ts';
import * as api from './index.ts';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/ERRORS.md', import.meta.url)), 'utf8');
/** The rows of docs/ERRORS.md's configuration section, by code. */
const SECTION = DOC.slice(DOC.indexOf('## Configuration errors'));

describe('config error registry', () => {
  const codes = Object.keys(CONFIG_ERROR_CODES) as ConfigErrorCode[];

  it('is exported from the package entry', () => {
    expect(api.CONFIG_ERROR_CODES).toBe(CONFIG_ERROR_CODES);
  });

  it.each(codes)('%s is stable-shaped and documented with its meaning', (code) => {
    expect(code).toMatch(/^TUN_ERR_CONFIG_[A-Z_]+$/);
    const row = SECTION.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `docs/ERRORS.md (Configuration errors) has no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${CONFIG_ERROR_CODES[code]} |`);
  });

  it('docs/ERRORS.md documents no unknown configuration codes', () => {
    const documented = [...DOC.matchAll(/^\| `(TUN_ERR_CONFIG_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...codes].sort());
  });

  it('a ConfigError carries its code, flag and exit status 2', () => {
    const err = new ConfigError('TUN_ERR_CONFIG_REQUIRED', '--url', '--url is required');
    expect(err).toBeInstanceOf(Error);
    expect([err.code, err.option, err.exitCode, err.name]).toEqual(['TUN_ERR_CONFIG_REQUIRED', '--url', 2, 'ConfigError']);
  });
});
