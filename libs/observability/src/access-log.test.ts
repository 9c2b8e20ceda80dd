import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accessLogger } from './access-log.ts';

describe('accessLogger', () => {
  it('is absent for off', () => {
    expect(accessLogger('off', { app: 'x', tty: false })).toBeUndefined();
  });

  it('fails at once when the file cannot be opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-'));
    expect(() => accessLogger(dir, { app: 'x', tty: false })).toThrow(/EISDIR/);
  });

  it('appends JSON lines to a file (directory created) and redacts secret fields', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'access-')), 'sub', 'access.log');
    const log = accessLogger(path, { app: 'exit-server', tty: false });
    if (!log) throw new Error('accessLogger gave no logger for a path');
    log.info({ method: 'GET', status: 200, authorization: 'Bearer s3cret', headers: { cookie: 'sid=s3cret' } }, 'request');
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ app: 'exit-server', log: 'access', msg: 'request', method: 'GET', status: 200 });
    expect(JSON.stringify(lines[0])).not.toContain('s3cret');
  });
});
